/**
 * Runs one bundled flow in an isolate of this process. Every run gets a context of its own,
 * prepared ahead of time (context created, SDK runtime evaluated, bridge globals taken) in a
 * small set of isolates. An isolate serves several runs one after another, each in a fresh
 * context, but only while every run in it has succeeded; see "Reusing an isolate" below.
 *
 * Limits (src/sandbox/limits.ts): the isolate's memoryLimit; CPU time, checked by
 * isolated-vm's timeout for synchronous code and by a watchdog on isolate.cpuTime for code
 * that runs after an await; a host-side wall-clock deadline around the whole run (isolated-vm
 * does not count time spent awaiting the host); calls, output and logs counted by the bridge.
 * Whatever ends a run other than success, its isolate is disposed, calls still running are
 * told to stop (CallContext.signal) and steps left open are closed.
 *
 * Reusing an isolate. A V8 isolate is one heap and one memory limit; a context is one realm
 * (its own globals, builtins and prototypes) inside it. What contexts of one isolate share,
 * and how each is handled:
 * - Objects: none are shared. A context's code reaches another context's objects only through
 *   a reference someone hands it, and nothing does: the host gives each context its own send
 *   Callback, keeps the deliver/start References to itself and releases them with the
 *   context; isolated-vm settles the start promise with functions it makes in the run's own
 *   context. isolated-vm's per-isolate default context (where it compiles scripts) hands no
 *   object to guest code: compile errors are copied out to the host.
 * - The heap and its limit: garbage of an earlier run is collected before V8 declares the
 *   limit reached, and a finished context is unreachable once released (nothing above holds
 *   it). An isolate is reused only after a run that succeeded and left its heap small
 *   (RECYCLE_HEAP_FRACTION of the limit), at most MAX_RUNS_PER_ISOLATE times.
 * - Code of a finished run: the run ended when isolated-vm settled its start promise, after
 *   that task's microtask checkpoint drained. What can still enter the old context is a reply
 *   already on its way to it when the run ended (the bridge drops any later one); the send
 *   Callback is `ignored`, so no acknowledgement comes back into the isolate, and there are no
 *   timers, WeakRef, FinalizationRegistry, Atomics or WebAssembly (determinism.ts). The next
 *   context is asked for only after the bridge has closed, so it is queued on the isolate's
 *   thread behind any such reply; if it is not made within RECYCLE_WAIT_MS (old code still
 *   running), the isolate is disposed. Once it is made, nothing is left that can call into
 *   the old context.
 * - Per-isolate state visible from JavaScript: the Symbol.for registry (symbols are
 *   primitives: they hold no properties and the registry cannot be listed, so a key carries
 *   nothing across) and V8's compilation cache (code, not values). The hostile suite
 *   (tests/sandbox/hostile/reuse.test.ts) plants everything a run can (globals, prototypes,
 *   builtins, Symbol.for, RegExp statics, Error and promise hooks, pending work) and checks
 *   that the next run in the same isolate sees what a run in a new isolate sees; and leaves a
 *   reply's continuation spinning in the old context, which must never reach a later run.
 * - Any other end (failed, a limit, cancelled, crashed): the isolate is disposed.
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
/** Contexts kept prepared, per memory limit (each in an isolate of its own). */
const PREPARED = 2;
const MAX_ERROR = 10_000;
const MB = 1024 * 1024;
/** Runs one isolate serves, one after another, each in a fresh context. */
export const MAX_RUNS_PER_ISOLATE = 64;
/** An isolate whose heap is fuller than this after a run is disposed rather than reused. */
const RECYCLE_HEAP_FRACTION = 0.25;
/** How long the probe before a reuse may wait for the isolate's thread. */
const RECYCLE_WAIT_MS = 50;

/** An isolate and how many runs it has been given. */
type Host = {
  /** Numbered in creation order within this process (tests tell isolates apart by it). */
  id: number;
  isolate: ivm.Isolate;
  memoryMb: number;
  runs: number;
  /** The runtime script compiled in this isolate: run again in each new context. */
  runtime: ivm.Script;
};

type Prepared = {
  host: Host;
  context: ivm.Context;
  deliver: ivm.Reference<(id: number, json: string) => void>;
  start: ivm.Reference<(paramsJson: string) => Promise<string>>;
  /** The bridge of the run that took this context; its send Callback forwards to it. */
  holder: { bridge: HostBridge | null };
};

let hosts = 0;

function newHost(memoryMb: number, text: string, cachedData: ivm.ExternalCopy<ArrayBuffer> | null): Host {
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  try {
    // Our own runtime's code cache, made in this process (runtime-script.ts); flows never get one.
    const runtime = isolate.compileScriptSync(text, {
      filename: RUNTIME_FILENAME,
      ...(cachedData ? { cachedData } : {}),
    }) as ivm.Script & { cachedDataRejected?: boolean };
    if (cachedData && runtime.cachedDataRejected) dropRuntimeCodeCache();
    return { id: ++hosts, isolate, memoryMb, runs: 0, runtime };
  } catch (e) {
    if (!isolate.isDisposed) isolate.dispose();
    throw e;
  }
}

/**
 * Fills a fresh context of `host`: the SDK runtime evaluated, the bridge globals taken.
 * Synchronous: it runs only right after the context was made, when nothing else is queued on
 * this isolate (no run has it), so the calls do not wait and each is short.
 */
function fill(host: Host, context: ivm.Context): Prepared {
  const holder: Prepared["holder"] = { bridge: null };
  try {
    const global = context.global;
    // `ignored`: the guest gets no promise back, so nothing resumes in the isolate later.
    global.setSync(
      GLOBALS.send,
      new ivm.Callback((json: string) => holder.bridge?.receive(json), { ignored: true }),
    );
    host.runtime.runSync(context, { timeout: 5_000 });
    // Taken by the host and removed from the global scope before any flow code runs.
    const deliver = global.getSync(GLOBALS.deliver, { reference: true });
    const start = global.getSync(GLOBALS.start, { reference: true });
    global.deleteSync(GLOBALS.deliver);
    global.deleteSync(GLOBALS.start);
    return { host, context, deliver, start, holder };
  } catch (e) {
    context.release();
    throw e;
  }
}

/** A new isolate with a prepared context; making the context (the costly part) happens off this thread. */
async function prepareFresh(memoryMb: number): Promise<Prepared> {
  const [text, cachedData] = await Promise.all([runtimeScript(), runtimeCodeCache()]);
  const host = newHost(memoryMb, text, cachedData);
  try {
    return fill(host, await host.isolate.createContext());
  } catch (e) {
    dispose(host);
    throw e;
  }
}

type Ready = { list: Promise<Prepared>[] };
const ready = new Map<number, Ready>();

function readyFor(memoryMb: number): Ready {
  let r = ready.get(memoryMb);
  if (!r) ready.set(memoryMb, (r = { list: [] }));
  return r;
}

function refill(memoryMb: number): void {
  const r = readyFor(memoryMb);
  while (r.list.length < PREPARED) {
    const next = prepareFresh(memoryMb);
    next.catch(() => {
      const i = r.list.indexOf(next);
      if (i >= 0) r.list.splice(i, 1);
    });
    r.list.push(next);
  }
}

/**
 * A prepared context (never used before) for this memory limit. The set is refilled when a
 * run ends (runInIsolate), not while one is starting: creating an isolate blocks this thread
 * for most of a millisecond, which would land on the run in progress.
 */
async function take(memoryMb: number): Promise<Prepared> {
  const waiting = readyFor(memoryMb).list.shift();
  if (waiting) {
    try {
      return await waiting;
    } catch {
      // fall through to a fresh one
    }
  }
  return prepareFresh(memoryMb);
}

function release(p: Prepared): void {
  p.holder.bridge = null;
  p.deliver.release();
  p.start.release();
  p.context.release();
}

function dispose(host: Host): void {
  if (!host.isolate.isDisposed) host.isolate.dispose();
}

/**
 * After a run that succeeded: its context is released and, if the isolate may serve again
 * (see the top of this file), a fresh context is made in it and offered to the next run at
 * once (a run that takes it waits for the context). Making the context is also the probe: it
 * is queued behind anything the last run left on the isolate's thread and must be done within
 * RECYCLE_WAIT_MS, or the isolate is disposed (and whoever took it gets a new isolate).
 */
function recycle(p: Prepared): void {
  const { host } = p;
  if (host.isolate.isDisposed) return;
  release(p);
  const r = readyFor(host.memoryMb);
  if (host.runs >= MAX_RUNS_PER_ISOLATE || r.list.length >= PREPARED) return dispose(host);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the isolate did not answer in time")), RECYCLE_WAIT_MS);
  });
  const made = host.isolate.createContext();
  made.catch(() => undefined);
  const next = Promise.race([made, late]).then((context) => {
    clearTimeout(timer);
    const heap = host.isolate.getHeapStatisticsSync();
    if (heap.used_heap_size + heap.externally_allocated_size > host.memoryMb * MB * RECYCLE_HEAP_FRACTION) {
      context.release();
      throw new Error("the isolate's heap is too full to reuse");
    }
    return fill(host, context);
  });
  next.catch(() => {
    clearTimeout(timer);
    dispose(host);
    const i = r.list.indexOf(next);
    if (i >= 0) r.list.splice(i, 1);
    refill(host.memoryMb);
  });
  r.list.push(next);
}

/** Prepares isolates for this memory limit ahead of the first run. */
export function prewarm(memoryMb: number): void {
  refill(resolveLimits({ memoryMb, timeoutMs: 1 }).memoryMb);
}

/** Disposes the prepared isolates (tests and shutdown). */
export async function disposePrepared(): Promise<void> {
  const all = [...ready.values()].flatMap((r) => r.list);
  ready.clear();
  for (const p of await Promise.allSettled(all)) if (p.status === "fulfilled") dispose(p.value.host);
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

/** Which isolate a run had, and how many runs (this one included) it has served. */
export type IsolateUse = { isolate: number; run: number };

export async function runInIsolate(
  options: RunFlowOptions,
  observe?: (use: IsolateUse) => void,
): Promise<RunFlowResult> {
  const limits = resolveLimits(options.limits);
  const prepared = await take(limits.memoryMb);
  const { isolate } = prepared.host;
  prepared.host.runs++;
  observe?.({ isolate: prepared.host.id, run: prepared.host.runs });
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
    ended.abort();
  }
  // A limit or cancel that fired while the flow was finishing still ends the run.
  if (stop) result = stop;
  const reusable = result.status === "succeeded" && !isolate.isDisposed;
  // The flow has returned and the bridge is closing: disposal need not delay the result.
  if (!reusable) setImmediate(() => !isolate.isDisposed && isolate.dispose());
  await bridge.close(CALL_GRACE_MS);
  closeOpenSteps(bridge, result);
  // The isolate's next context is asked for now (made on the isolate's thread, not this one),
  // so that it is on offer before the caller can start another run. A new isolate blocks this
  // thread for most of a millisecond: that waits until the caller has had the result.
  if (reusable) recycle(prepared);
  else setImmediate(() => refill(limits.memoryMb));
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
  const { context } = prepared;
  const { isolate } = prepared.host;
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
