/** Assembles the object behind "intentflow:sdk" from the runtime's parts. */
import type { SdkValueExport } from "../protocol";
import type { GuestBridge } from "./bridge";
import { createCapabilities } from "./capabilities";
import { parallel, settle, settleAll } from "./concurrency";
import { holds } from "./conditions";
import { defineFlow } from "./flow";
import { anyFailed, forEachHost, once, requireSuccess, resultOn } from "./outcomes";
import { currentScope } from "./scope";
import { sh } from "./shell";
import { createSteps } from "./steps";

export function createSdk(bridge: GuestBridge): Readonly<Record<SdkValueExport, unknown>> {
  const caps = createCapabilities(bridge);
  const { step, skip, poll, fail } = createSteps(bridge, caps);
  // Public capability functions belong to whichever step is running synchronously now.
  const ssh = Object.freeze({
    exec: (host: string, command: unknown, options?: { timeoutMs?: number }) =>
      caps.exec(currentScope(), host, command, options),
  });
  const sleep = (ms: number) => caps.sleep(currentScope(), ms);
  const log = (message: string, level?: "info" | "warn" | "error") =>
    caps.log(currentScope(), message, level);
  return Object.freeze({
    anyFailed,
    defineFlow,
    fail,
    forEachHost,
    holds,
    log,
    once,
    parallel,
    poll,
    requireSuccess,
    resultOn,
    settle,
    settleAll,
    sh,
    skip,
    sleep,
    ssh,
    step,
  });
}
