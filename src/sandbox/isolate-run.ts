/**
 * Runs one bundled flow in an isolate of this process. Every run gets an isolate of its own,
 * taken from a small set prepared ahead of time (context created, SDK runtime evaluated,
 * bridge globals taken) and disposed when the run ends: nothing of one run can reach the next.
 *
 * Limits (src/sandbox/limits.ts): the isolate's memoryLimit; CPU time, checked by
 * isolated-vm's timeout for synchronous code and by a watchdog on isolate.cpuTime for code
 * that runs after an await; a host-side wall-clock deadline around the whole run (isolated-vm
 * does not count time spent awaiting the host); calls, output and logs counted by the bridge.
 * Whatever ends the run, the isolate is disposed, calls still running are told to stop
 * (CallContext.signal) and steps left open are closed.
 */
import ivm from "isolated-vm";
import { BUNDLE_FILENAME, GLOBALS, RUNTIME_FILENAME, type WireStartResult } from "../../sandbox/protocol";
import type { StepStatus } from "../store/types";
import { HostBridge } from "./bridge";
import { type ResolvedLimits, resolveLimits } from "./limits";
import { dropRuntimeCodeCache, runtimeCodeCache, runtimeScript } from "./runtime-script";
import { sourcePositionOf } from "./source-map";
import type { LimitKind, RunFlowOptions, RunFlowResult } from "./types";

/** How long a finished run waits for capability calls it abandoned to notice the abort. */
const CALL_GRACE_MS = 2_000;
/** How often the watchdog reads the isolate's CPU time. */
const WATCH_MS = 25;
/** Isolates kept prepared, per memory limit. */
const PREPARED = 2;
const MAX_ERROR = 10_000;

type Prepared = {
  isolate: ivm.Isolate;
  context: ivm.Context;
  deliver: ivm.Reference<(id: number, json: string) => void>;
  start: ivm.Reference<(paramsJson: string) => Promise<string>>;
  /** The bridge of the run that took this isolate; the send Callback forwards to it. */
  holder: { bridge: HostBridge | null };
};

async function prepare(memoryMb: number): Promise<Prepared> {
  const [runtime, cachedData] = await Promise.all([runtimeScript(), runtimeCodeCache()]);
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  try {
    const holder: Prepared["holder"] = { bridge: null };
    const context = await isolate.createContext();
    const global = context.global;
    await global.set(
      GLOBALS.send,
      new ivm.Callback((json: string) => holder.bridge?.receive(json), { async: true }),
    );
    // Our own runtime's code cache, made in this process (runtime-script.ts); flows never get one.
    const code = (await isolate.compileScript(runtime, {
      filename: RUNTIME_FILENAME,
      ...(cachedData ? { cachedData } : {}),
    })) as ivm.Script & { cachedDataRejected?: boolean };
    if (cachedData && code.cachedDataRejected) dropRuntimeCodeCache();
    await code.run(context, { timeout: 5_000 });
    code.release();
    // Taken by the host and removed from the global scope before any flow code runs.
    const deliver = await global.get(GLOBALS.deliver, { reference: true });
    const start = await global.get(GLOBALS.start, { reference: true });
    await global.delete(GLOBALS.deliver);
    await global.delete(GLOBALS.start);
    return { isolate, context, deliver, start, holder };
  } catch (e) {
    if (!isolate.isDisposed) isolate.dispose();
    throw e;
  }
}

const ready = new Map<number, Promise<Prepared>[]>();

function refill(memoryMb: number): void {
  const list = ready.get(memoryMb) ?? [];
  ready.set(memoryMb, list);
  while (list.length < PREPARED) {
    const next = prepare(memoryMb);
    next.catch(() => {
      const i = list.indexOf(next);
      if (i >= 0) list.splice(i, 1);
    });
    list.push(next);
  }
}

/**
 * A prepared isolate (never used before) for this memory limit. The set is refilled when a run
 * ends (runInIsolate), not while one is starting: creating an isolate blocks this thread for
 * most of a millisecond, which would land on the run in progress.
 */
async function take(memoryMb: number): Promise<Prepared> {
  const waiting = ready.get(memoryMb)?.shift();
  if (waiting) {
    try {
      return await waiting;
    } catch {
      // fall through to a fresh one
    }
  }
  return prepare(memoryMb);
}

/** Prepares isolates for this memory limit ahead of the first run. */
export function prewarm(memoryMb: number): void {
  refill(resolveLimits({ memoryMb, timeoutMs: 1 }).memoryMb);
}

/** Disposes the prepared isolates (tests and shutdown). */
export async function disposePrepared(): Promise<void> {
  const all = [...ready.values()].flat();
  ready.clear();
  for (const p of await Promise.allSettled(all))
    if (p.status === "fulfilled" && !p.value.isolate.isDisposed) p.value.isolate.dispose();
}

type Stop = Required<Pick<RunFlowResult, "status" | "limit">> & { error: string };

function limitStop(kind: LimitKind, message: string): Stop {
  const status =
    kind === "memory_limit"
      ? "memory_limit"
      : kind === "timeout" || kind === "cpu_limit"
        ? "timed_out"
        : "failed";
  return { status, error: message, limit: kind };
}

const isMemoryError = (e: unknown) => e instanceof Error && /memory limit/i.test(e.message);

export async function runInIsolate(options: RunFlowOptions): Promise<RunFlowResult> {
  const limits = resolveLimits(options.limits);
  const prepared = await take(limits.memoryMb);
  const { isolate } = prepared;
  const ended = new AbortController();
  let stop: RunFlowResult | null = null;
  let memoryExceeded = false;
  const noteIsolateError = (e: unknown) => {
    if (isMemoryError(e)) memoryExceeded = true;
  };
  const halt = (s: RunFlowResult) => {
    stop ??= s;
    if (!isolate.isDisposed) isolate.dispose();
  };
  const bridge = new HostBridge(
    options,
    ended.signal,
    {
      onIsolateError: noteIsolateError,
      onLimit: (kind, message) => halt(limitStop(kind, message)),
    },
    limits,
  );
  prepared.holder.bridge = bridge;
  bridge.attach(prepared.deliver);

  const deadline = Date.now() + limits.timeoutMs;
  const cpuAtStart = isolate.cpuTime;
  const cpuUsedMs = () => Number((isolate.isDisposed ? 0n : isolate.cpuTime - cpuAtStart) / 1_000_000n);
  const timer = setTimeout(
    () => halt(limitStop("timeout", `the flow ran longer than ${limits.timeoutMs} ms`)),
    limits.timeoutMs,
  );
  const watchdog = setInterval(() => {
    if (!isolate.isDisposed && cpuUsedMs() > limits.cpuMs)
      halt(limitStop("cpu_limit", `the flow used more than ${limits.cpuMs} ms of CPU time`));
  }, WATCH_MS);
  const onAbort = () => halt({ status: "cancelled", error: "the run was cancelled" });
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // isolated-vm's timeout bounds synchronous script time; the deadline and watchdog the rest.
  const remaining = () => Math.max(1, Math.min(deadline - Date.now(), limits.cpuMs - cpuUsedMs()));

  let result: RunFlowResult;
  try {
    const started = await start(prepared, options, remaining);
    result = started.ok ? { status: "succeeded", error: null } : flowError(started.error, options.sourceMap);
  } catch (e) {
    noteIsolateError(e);
    result = stop ?? crashed(e, memoryExceeded || isolate.isDisposed, limits, cpuUsedMs());
  } finally {
    clearTimeout(timer);
    clearInterval(watchdog);
    options.signal?.removeEventListener("abort", onAbort);
    // The flow has returned and the bridge is closing: disposal need not delay the result.
    if (!isolate.isDisposed) setImmediate(() => !isolate.isDisposed && isolate.dispose());
    ended.abort();
  }
  // A limit or cancel that fired while the flow was finishing still ends the run.
  if (stop) result = stop;
  await bridge.close(CALL_GRACE_MS);
  closeOpenSteps(bridge, result);
  // After the caller has had the result: the next isolate is prepared off this run's path.
  setImmediate(() => refill(limits.memoryMb));
  return result;
}

function crashed(e: unknown, memory: boolean, limits: ResolvedLimits, cpuMs: number): RunFlowResult {
  if (memory) return limitStop("memory_limit", `the flow used more than ${limits.memoryMb} MB of memory`);
  if (e instanceof Error && /timed out/i.test(e.message))
    return cpuMs >= limits.cpuMs
      ? limitStop("cpu_limit", `the flow used more than ${limits.cpuMs} ms of CPU time`)
      : limitStop("timeout", `the flow ran longer than ${limits.timeoutMs} ms`);
  return { status: "failed", error: `the sandbox failed: ${e instanceof Error ? e.message : String(e)}` };
}

async function start(
  prepared: Prepared,
  options: RunFlowOptions,
  remaining: () => number,
): Promise<WireStartResult> {
  const { isolate, context } = prepared;
  // Synchronous: the bundle's top level only defines the flow, and each hop to the isolate's
  // thread and back costs more than that. The timeout still bounds it.
  const flowCode = isolate.compileScriptSync(options.bundle, { filename: BUNDLE_FILENAME });
  flowCode.runSync(context, { timeout: remaining() });
  flowCode.release();
  const json = await prepared.start.apply(undefined, [JSON.stringify(options.params ?? {})], {
    result: { promise: true, copy: true },
    timeout: remaining(),
  });
  if (typeof json !== "string") throw new Error("the flow's start answered with a non-string");
  return JSON.parse(json) as WireStartResult;
}

function flowError(
  error: { name: string; message: string; stack: string | null },
  sourceMap?: string | null,
): RunFlowResult {
  const at = sourcePositionOf(
    typeof error.stack === "string" ? error.stack.slice(0, MAX_ERROR) : null,
    sourceMap,
  );
  const where = at ? ` (${at.file}:${at.line}:${at.column})` : "";
  const text = (v: unknown) => String(v).slice(0, MAX_ERROR);
  const name =
    error.name && error.name !== "Error" && error.name !== "FlowFailure" ? `${text(error.name)}: ` : "";
  return { status: "failed", error: `${name}${text(error.message)}${where}` };
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
