import { type CapabilityCall, type FlowEvent, runFlow } from "../sandbox/runner";
import type { FlowVersionRecord, RunRecord, RunStatus, StepResultRecord, Store } from "../store/types";
import type { CapabilityExecutor, EngineCall } from "./capability-executor";

/**
 * The full engine: runs an approved, bundled flow in the sandbox. Every capability call goes
 * through the executor under the sandbox's deterministic key, so a run replayed after a crash
 * gets recorded results for calls that completed and does not execute them again.
 */

export type FlowRunContext = {
  run: RunRecord;
  version: FlowVersionRecord;
  approvedHosts: ReadonlySet<string>;
};
export type FlowLimits = { memoryMb: number; timeoutMs: number };

export class FlowEngine {
  constructor(private readonly deps: { store: Store; executor: CapabilityExecutor; limits: FlowLimits }) {}

  async execute(
    ctx: FlowRunContext,
    signal?: AbortSignal,
  ): Promise<{ status: RunStatus; error: string | null }> {
    const { run, version } = ctx;
    if (!version.bundle) return { status: "failed", error: "the version has no bundle" };
    const recorder = new EventRecorder(this.deps.store, run.id);
    const onEvent = (e: FlowEvent) => recorder.push(e);
    const result = await runFlow({
      bundle: version.bundle,
      sourceMap: version.sourceMap,
      params: run.params,
      allowedHosts: [...ctx.approvedHosts],
      call: (call: CapabilityCall, c) =>
        this.deps.executor.execute(call as EngineCall, {
          runId: run.id,
          key: c.key,
          stepId: c.stepId,
          host: c.host,
          approvedHosts: ctx.approvedHosts,
          signal,
        }),
      onEvent,
      limits: this.deps.limits,
      signal,
    });
    await recorder.drain();
    const status: RunStatus = result.status === "memory_limit" ? "failed" : result.status;
    const error =
      result.status === "memory_limit" ? `memory limit reached: ${result.error ?? ""}`.trim() : result.error;
    return { status, error };
  }
}

/** How long step events gather before they are written together. */
const EVENT_FLUSH_MS = 10;

/**
 * Writes a run's events to the store behind the run, in order: events that arrive while a
 * write is under way are written together in one transaction, and a step's started and
 * finished states in the same batch become one row write. Logs keep their order.
 */
class EventRecorder {
  private queue: FlowEvent[] = [];
  private flushing: Promise<void> | null = null;
  private readonly startedAt = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly runId: string,
  ) {}

  push(e: FlowEvent): void {
    this.queue.push(e);
    this.flushing ??= this.flushLoop();
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // Gather what the sandbox reports over a short window: one commit for many step events
    // instead of one or two per step. The journal, not these rows, is what replay relies on.
    await new Promise((r) => setTimeout(r, EVENT_FLUSH_MS));
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        await this.write(batch).catch(() => undefined);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async write(batch: FlowEvent[]): Promise<void> {
    const now = new Date().toISOString();
    const rows = new Map<string, StepResultRecord>();
    const flushRows = async () => {
      if (rows.size) await this.store.putStepResults([...rows.values()]);
      rows.clear();
    };
    for (const e of batch) {
      if (e.type === "log") {
        await flushRows();
        await this.store.appendLog({
          runId: this.runId,
          at: now,
          level: e.level,
          stepId: e.stepId,
          host: e.host,
          message: e.message,
        });
        continue;
      }
      const host = e.host ?? "";
      const key = `${e.stepId}|${host}`;
      if (e.type === "step.started") {
        if (!this.startedAt.has(key)) this.startedAt.set(key, now);
        rows.set(key, {
          runId: this.runId,
          stepId: e.stepId,
          host,
          status: "running",
          attempts: e.attempt,
          exitCode: null,
          stdout: "",
          stderr: "",
          error: null,
          startedAt: this.startedAt.get(key)!,
          finishedAt: null,
        });
        continue;
      }
      // A step resumed after a crash started in an earlier execution: that time is in the store.
      if (!this.startedAt.has(key)) {
        const prior = (await this.store.stepResults(this.runId)).find(
          (r) => r.stepId === e.stepId && r.host === host,
        );
        this.startedAt.set(key, prior?.startedAt ?? now);
      }
      rows.set(key, {
        runId: this.runId,
        stepId: e.stepId,
        host,
        status: e.status,
        attempts: e.attempts,
        exitCode: e.exitCode ?? null,
        stdout: e.stdout ?? "",
        stderr: e.stderr ?? "",
        error: e.error ?? null,
        startedAt: this.startedAt.get(key)!,
        finishedAt: now,
      });
    }
    await flushRows();
  }
}
