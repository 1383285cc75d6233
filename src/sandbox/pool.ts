/**
 * Supervised sandbox worker processes. Each worker runs many flows at once, each in its own
 * isolate; capability calls come back here over IPC, are validated again (calls.ts and the
 * run's approved hosts: a worker is treated as no more trusted than the flow in it) and are
 * performed in this process, where the credentials are. A worker that dies fails only the
 * runs it had, which end "failed" with the reason; it is replaced at once.
 */
import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseCall } from "../capabilities/calls";
import { hostOf } from "./bridge";
import { runtimeScript } from "./runtime-script";
import type { FlowEvent, RunFlowOptions, RunFlowResult } from "./types";
import type { FromWorker, FromWorkerWire, ToWorker, WireBundle, WireCallContext } from "./worker-protocol";

const WORKER_ENTRY = fileURLToPath(new URL("./worker.ts", import.meta.url));

type Run = {
  options: RunFlowOptions;
  resolve: (result: RunFlowResult) => void;
  /** Aborted when the run ends: capability calls still running should stop. */
  ended: AbortController;
  open: Map<string, Extract<FlowEvent, { type: "step.started" }>>;
  onAbort: () => void;
};

type Worker = {
  child: ChildProcess;
  runs: Map<number, Run>;
  ready: Promise<void>;
  /** Bundles this worker holds, oldest use first: bundle text → id and the source map sent with it. */
  bundles: Map<string, { id: number; sourceMap: string | null }>;
};

/** Bundles a worker keeps (the parent evicts the least recently run). */
const WORKER_BUNDLES = 64;

export type PoolOptions = { size?: number; prewarmMb?: number };

export class SandboxPool {
  private readonly workers: Worker[] = [];
  private nextRun = 0;
  private nextBundle = 0;
  private closed = false;
  private readonly size: number;
  private readonly prewarmMb: number;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(2, availableParallelism()));
    this.prewarmMb = options.prewarmMb ?? 64;
  }

  /** Starts the workers (also done lazily by the first run). */
  async start(): Promise<void> {
    while (this.workers.length < this.size) this.workers.push(this.spawn());
    await Promise.all(this.workers.map((w) => w.ready));
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  run(options: RunFlowOptions): Promise<RunFlowResult> {
    if (this.closed) return Promise.resolve({ status: "failed", error: "the sandbox pool is closed" });
    while (this.workers.length < this.size) this.workers.push(this.spawn());
    const worker = this.workers.reduce((a, b) => (b.runs.size < a.runs.size ? b : a));
    const runId = ++this.nextRun;
    return new Promise<RunFlowResult>((resolve) => {
      const run: Run = {
        options,
        resolve,
        ended: new AbortController(),
        open: new Map(),
        onAbort: () => this.post(worker, { type: "cancel", runId }),
      };
      worker.runs.set(runId, run);
      worker.child.channel?.ref();
      options.signal?.addEventListener("abort", run.onAbort, { once: true });
      if (options.signal?.aborted) run.onAbort();
      const bundle = this.wireBundle(worker, options.bundle, options.sourceMap ?? null);
      void worker.ready.then(() =>
        this.post(worker, {
          type: "run",
          runId,
          bundle,
          params: options.params,
          allowedHosts: [...options.allowedHosts],
          limits: options.limits,
        }),
      );
    });
  }

  /** The bundle as this worker gets it: by id if it has it, else in full (evicting the oldest). */
  private wireBundle(worker: Worker, bundle: string, sourceMap: string | null): WireBundle {
    const known = worker.bundles.get(bundle);
    worker.bundles.delete(bundle);
    if (known && known.sourceMap === sourceMap) {
      worker.bundles.set(bundle, known);
      return { id: known.id };
    }
    const forget = known ? [known.id] : [];
    const id = ++this.nextBundle;
    worker.bundles.set(bundle, { id, sourceMap });
    for (const [oldest, { id: old }] of worker.bundles) {
      if (worker.bundles.size <= WORKER_BUNDLES) break;
      worker.bundles.delete(oldest);
      forget.push(old);
    }
    return { id, code: { bundle, sourceMap }, ...(forget.length ? { forget } : {}) };
  }

  /** Stops the workers; runs still in them end "failed". */
  async close(): Promise<void> {
    this.closed = true;
    const exits = this.workers.map(
      (w) =>
        new Promise<void>((resolve) =>
          w.child.exitCode !== null ? resolve() : w.child.once("exit", () => resolve()),
        ),
    );
    for (const w of this.workers) w.child.kill();
    await Promise.all(exits);
  }

  private spawn(): Worker {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ["--no-node-snapshot", "--import", "tsx"],
      // No secrets in the worker: it gets no environment beyond what Node needs.
      env: { PATH: process.env.PATH ?? "", NODE_ENV: process.env.NODE_ENV ?? "production" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const runs = new Map<number, Run>();
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const worker: Worker = { child, runs, ready, bundles: new Map() };
    const dispatch = (m: FromWorker) => {
      if (m.type !== "ready") return this.receive(worker, m);
      markReady();
      if (!runs.size) child.channel?.unref();
    };
    // A batch is the worker's messages in the order it made them (worker.ts).
    child.on("message", (m: FromWorkerWire) => {
      if (m.type !== "batch") return dispatch(m);
      for (const one of m.messages) dispatch(one);
    });
    child.on("error", () => undefined);
    child.once("exit", (code, signal) => this.died(worker, code, signal));
    void runtimeScript().then((runtime) =>
      this.post(worker, { type: "init", runtime, prewarmMb: this.prewarmMb }),
    );
    // Referenced while starting or running flows only: an idle pool does not keep the process up.
    child.unref();
    return worker;
  }

  private post(worker: Worker, message: ToWorker): void {
    if (worker.child.connected) worker.child.send(message, (e) => void e);
  }

  /**
   * A call's reply. The value is not copied first: send() serializes it before it returns, so
   * nothing done to it later reaches the worker. A value that cannot be serialized (send()
   * throws) is answered as the call failing, as when it was copied with structuredClone.
   */
  private postReply(worker: Worker, reply: Extract<ToWorker, { type: "reply" }>): void {
    try {
      this.post(worker, reply);
    } catch (e) {
      if (!reply.ok) throw e;
      this.post(worker, {
        type: "reply",
        runId: reply.runId,
        callId: reply.callId,
        ok: false,
        error: { code: "failed", message: e instanceof Error ? e.message : String(e) },
      });
    }
  }

  private receive(worker: Worker, m: Exclude<FromWorker, { type: "ready" }>): void {
    const run = worker.runs.get(m.runId);
    if (!run) return;
    if (m.type === "event") return this.event(run, m.event);
    if (m.type === "call") return void this.call(worker, run, m.runId, m.callId, m.call, m.ctx);
    this.finish(worker, m.runId, m.result);
  }

  private event(run: Run, event: FlowEvent): void {
    const key = `${event.stepId}|${event.host ?? ""}`;
    if (event.type === "step.started") run.open.set(key, event);
    else if (event.type === "step.finished") run.open.delete(key);
    try {
      run.options.onEvent(event);
    } catch {
      // A failing observer must not change the run.
    }
  }

  private async call(
    worker: Worker,
    run: Run,
    runId: number,
    callId: number,
    raw: unknown,
    ctx: WireCallContext,
  ) {
    let reply: Extract<ToWorker, { type: "reply" }>;
    try {
      const c = raw as { name?: unknown; args?: unknown };
      const call = parseCall(c.name, c.args);
      const host = hostOf(call);
      if (host !== null && !run.options.allowedHosts.includes(host))
        throw Object.assign(new Error(`host "${host}" is not among the hosts this run may reach`), {
          code: "denied",
        });
      const value = await run.options.call(call, {
        key: String(ctx.key),
        stepId: ctx.stepId,
        host: ctx.host,
        attempt: ctx.attempt,
        signal: run.ended.signal,
      });
      reply = { type: "reply", runId, callId, ok: true, value };
    } catch (e) {
      const code = e instanceof z.ZodError ? "invalid_argument" : (e as { code?: unknown } | null)?.code;
      reply = {
        type: "reply",
        runId,
        callId,
        ok: false,
        error: {
          code: typeof code === "string" ? code : "failed",
          message: e instanceof Error ? e.message : String(e),
        },
      };
    }
    if (worker.runs.has(runId)) this.postReply(worker, reply);
  }

  private finish(worker: Worker, runId: number, result: RunFlowResult): void {
    const run = worker.runs.get(runId);
    if (!run) return;
    worker.runs.delete(runId);
    if (!worker.runs.size) worker.child.channel?.unref();
    run.options.signal?.removeEventListener("abort", run.onAbort);
    run.ended.abort();
    run.resolve(result);
  }

  private died(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers.splice(i, 1);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const error = `the sandbox worker process died (${how}); V8 may have run out of memory`;
    for (const [runId, run] of [...worker.runs]) {
      for (const open of run.open.values())
        this.event(run, {
          type: "step.finished",
          stepId: open.stepId,
          host: open.host,
          status: "failed",
          attempts: open.attempt,
          exitCode: null,
          stdout: "",
          stderr: "",
          error,
        });
      this.finish(worker, runId, { status: "failed", error });
    }
    if (!this.closed && this.workers.length < this.size) this.workers.push(this.spawn());
  }
}
