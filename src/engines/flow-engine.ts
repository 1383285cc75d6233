import { type CapabilityCall, type FlowEvent, runFlow } from "../sandbox/runner";
import type { FlowVersionRecord, RunRecord, RunStatus, Store } from "../store/types";
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
    let writes = Promise.resolve();
    // Events arrive faster than the store writes them: keep their order, and wait for all at the end.
    const onEvent = (e: FlowEvent) => {
      writes = writes.then(() => this.record(run.id, e)).catch(() => undefined);
    };
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
    await writes;
    const status: RunStatus = result.status === "memory_limit" ? "failed" : result.status;
    const error =
      result.status === "memory_limit" ? `memory limit reached: ${result.error ?? ""}`.trim() : result.error;
    return { status, error };
  }

  private async record(runId: string, e: FlowEvent): Promise<void> {
    const now = new Date().toISOString();
    if (e.type === "log") {
      await this.deps.store.appendLog({
        runId,
        at: now,
        level: e.level,
        stepId: e.stepId,
        host: e.host,
        message: e.message,
      });
      return;
    }
    const host = e.host ?? "";
    if (e.type === "step.started") {
      await this.deps.store.putStepResult({
        runId,
        stepId: e.stepId,
        host,
        status: "running",
        attempts: e.attempt,
        exitCode: null,
        stdout: "",
        stderr: "",
        error: null,
        startedAt: now,
        finishedAt: null,
      });
      return;
    }
    const previous = (await this.deps.store.stepResults(runId)).find(
      (r) => r.stepId === e.stepId && r.host === host,
    );
    await this.deps.store.putStepResult({
      runId,
      stepId: e.stepId,
      host,
      status: e.status,
      attempts: e.attempts,
      exitCode: e.exitCode ?? null,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
      error: e.error ?? null,
      startedAt: previous?.startedAt ?? now,
      finishedAt: now,
    });
  }
}
