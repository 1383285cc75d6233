/** Assembles the object behind "intentflow:sdk" from the runtime's parts. */
import type { SdkValueExport } from "../protocol";
import type { GuestBridge } from "./bridge";
import { createCapabilities, handles } from "./capabilities";
import { parallel, settle, settleAll } from "./concurrency";
import { holds } from "./conditions";
import { defineFlow } from "./flow";
import { anyFailed, forEachHost, once, requireSuccess, resultOn } from "./outcomes";
import { currentScope } from "./scope";
import { sh } from "./shell";
import { createSteps } from "./steps";
import { ps, uri } from "./templates";

export function createSdk(bridge: GuestBridge): Readonly<Record<SdkValueExport, unknown>> {
  const caps = createCapabilities(bridge);
  const { step, skip, poll, fail } = createSteps(bridge, caps);
  // Public capability functions belong to whichever step is running synchronously now.
  const { ssh, powershell, http, net, notify, sleep, log } = handles(caps, currentScope);
  return Object.freeze({
    anyFailed,
    defineFlow,
    fail,
    forEachHost,
    holds,
    http,
    log,
    net,
    notify,
    once,
    parallel,
    poll,
    powershell,
    ps,
    requireSuccess,
    resultOn,
    settle,
    settleAll,
    sh,
    skip,
    sleep,
    ssh,
    step,
    uri,
  });
}
