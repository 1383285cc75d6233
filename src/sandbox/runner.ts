/**
 * Runs one bundled flow in a fresh isolate. Limits: the isolate's memoryLimit, and a
 * host-side wall-clock deadline around the whole run (isolated-vm's own timeout does not
 * count time spent awaiting the host). Whatever happens the isolate is disposed, calls
 * still running are told to stop (CallContext.signal) and steps left open are closed.
 *
 * In-process for now: a determined script can still take the process down (NOTES), which
 * is why runs will move to supervised worker processes.
 */
import ivm from "isolated-vm";
import { BUNDLE_FILENAME, GLOBALS, RUNTIME_FILENAME, type WireStartResult } from "../../sandbox/protocol";
import type { StepStatus } from "../store/types";
import { HostBridge } from "./bridge";
import { runtimeScript } from "./runtime-script";
import { sourcePositionOf } from "./source-map";
import type { RunFlowOptions, RunFlowResult, RunFlowStatus } from "./types";

export { type SandboxStatus, sandboxAvailable, sandboxStatus } from "./availability";
export type {
  CallContext,
  CapabilityCall,
  FlowEvent,
  LogLevel,
  RunFlowOptions,
  RunFlowResult,
  RunFlowStatus,
} from "./types";

/** How long a finished run waits for capability calls it abandoned to notice the abort. */
const CALL_GRACE_MS = 2_000;
const MIN_MEMORY_MB = 8;
/** setTimeout fires at once above this (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

type Stop = { status: Extract<RunFlowStatus, "timed_out" | "cancelled">; error: string };

const isMemoryError = (e: unknown) => e instanceof Error && /memory limit/i.test(e.message);

export async function runFlow(options: RunFlowOptions): Promise<RunFlowResult> {
  const runtime = await runtimeScript();
  const { memoryMb, timeoutMs } = options.limits;
  const isolate = new ivm.Isolate({ memoryLimit: Math.max(MIN_MEMORY_MB, Math.floor(memoryMb)) });
  const ended = new AbortController();
  let stop: Stop | null = null;
  let memoryExceeded = false;
  const noteIsolateError = (e: unknown) => {
    if (isMemoryError(e)) memoryExceeded = true;
  };
  const bridge = new HostBridge(options, ended.signal, noteIsolateError);

  const halt = (s: Stop) => {
    stop ??= s;
    if (!isolate.isDisposed) isolate.dispose();
  };
  const deadline = Date.now() + timeoutMs;
  const timer = setTimeout(
    () => halt({ status: "timed_out", error: `the flow ran longer than ${timeoutMs} ms` }),
    Math.min(timeoutMs, MAX_TIMER_MS),
  );
  const onAbort = () => halt({ status: "cancelled", error: "the run was cancelled" });
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // isolated-vm's timeout bounds synchronous script time; the deadline above bounds the rest.
  const remaining = () => Math.max(1, deadline - Date.now());

  let result: RunFlowResult;
  try {
    const started = await start(isolate, runtime, options, bridge, remaining);
    result = started.ok ? { status: "succeeded", error: null } : flowError(started.error, options.sourceMap);
  } catch (e) {
    noteIsolateError(e);
    if (stop) result = stop;
    else if (memoryExceeded || (isolate.isDisposed && !stop))
      result = { status: "memory_limit", error: `the flow used more than ${memoryMb} MB of memory` };
    else if (e instanceof Error && /timed out/i.test(e.message))
      result = { status: "timed_out", error: `the flow ran longer than ${timeoutMs} ms` };
    else
      result = {
        status: "failed",
        error: `the sandbox failed: ${e instanceof Error ? e.message : String(e)}`,
      };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (!isolate.isDisposed) isolate.dispose();
    ended.abort();
  }
  await bridge.close(CALL_GRACE_MS);
  closeOpenSteps(bridge, result);
  return result;
}

async function start(
  isolate: ivm.Isolate,
  runtime: string,
  options: RunFlowOptions,
  bridge: HostBridge,
  remaining: () => number,
): Promise<WireStartResult> {
  const context = await isolate.createContext();
  const global = context.global;
  await global.set(GLOBALS.send, new ivm.Callback((json: string) => bridge.receive(json), { async: true }));
  const runtimeCode = await isolate.compileScript(runtime, { filename: RUNTIME_FILENAME });
  await runtimeCode.run(context, { timeout: remaining() });

  // Taken by the host and removed from the global scope before any flow code runs.
  const deliver = await global.get(GLOBALS.deliver, { reference: true });
  const startFlow = await global.get(GLOBALS.start, { reference: true });
  await global.delete(GLOBALS.deliver);
  await global.delete(GLOBALS.start);
  bridge.attach(deliver);

  const flowCode = await isolate.compileScript(options.bundle, { filename: BUNDLE_FILENAME });
  await flowCode.run(context, { timeout: remaining() });
  const json = await startFlow.apply(undefined, [JSON.stringify(options.params ?? {})], {
    result: { promise: true, copy: true },
    timeout: remaining(),
  });
  return JSON.parse(String(json)) as WireStartResult;
}

function flowError(
  error: { name: string; message: string; stack: string | null },
  sourceMap?: string | null,
): RunFlowResult {
  const at = sourcePositionOf(error.stack, sourceMap);
  const where = at ? ` (${at.file}:${at.line}:${at.column})` : "";
  const name = error.name && error.name !== "Error" && error.name !== "FlowFailure" ? `${error.name}: ` : "";
  return { status: "failed", error: `${name}${error.message}${where}` };
}

/** Steps the run left open get a final status, so no step stays "running" forever. */
function closeOpenSteps(bridge: HostBridge, result: RunFlowResult): void {
  const status: StepStatus =
    result.status === "timed_out" ? "timed_out" : result.status === "cancelled" ? "cancelled" : "failed";
  const error = result.error ?? "the flow ended before the step finished";
  for (const open of [...bridge.openSteps.values()]) {
    bridge.emit({
      type: "step.finished",
      stepId: open.stepId,
      host: open.host,
      status: result.status === "succeeded" ? "cancelled" : status,
      attempts: open.attempt,
      exitCode: null,
      stdout: "",
      stderr: "",
      error: result.status === "succeeded" ? "the flow ended before the step finished" : error,
    });
  }
}
