import { randomUUID } from "node:crypto";
import type { Param, Plan } from "../plan/schema";
import { storedRunnableHash } from "../review/hash";
import type { FlowVersionRecord, RunRecord, RunStatus, Store } from "../store/types";
import type { FlowEngine } from "./flow-engine";
import type { JobQueue } from "./job-queue";
import type { QueueEngine } from "./queue-engine";

/**
 * Starting, executing and resuming runs. Nothing runs that was not approved, and what runs
 * is byte-for-byte what was approved: the hash is checked when a run is asked for and again
 * just before it executes, against the stored bundle (or plan) itself.
 */

export class RunRefused extends Error {
  constructor(
    readonly code: "not_found" | "not_approved" | "hash_mismatch" | "invalid_params",
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "RunRefused";
  }
}

const RUN_JOB = "run";
const FINAL: ReadonlySet<RunStatus> = new Set(["succeeded", "failed", "cancelled", "timed_out"]);

export class Runs {
  private readonly controllers = new Map<string, AbortController>();
  private readonly finished = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      store: Store;
      queue: JobQueue;
      queueEngine: QueueEngine;
      flowEngine: FlowEngine | null;
    },
  ) {
    deps.queue.process<{ runId: string }, void>(RUN_JOB, ({ runId }) => this.execute(runId), {
      concurrency: 16,
    });
  }

  /** Validates and records a run, then hands it to the queue; resolves once it is queued. */
  async start(flowId: string, version: number, rawParams: unknown): Promise<RunRecord> {
    const v = await this.deps.store.getVersion(flowId, version);
    if (!v) throw new RunRefused("not_found", `flow ${flowId} has no version ${version}`);
    if (v.status !== "approved" || !v.approvedHash)
      throw new RunRefused(
        "not_approved",
        `version ${version} of flow ${flowId} is ${v.status}: only approved versions run`,
      );
    const plan = await this.planOf(v);
    await this.verifyHash(v, plan);
    const params = resolveParams(plan.params, rawParams);
    const run: RunRecord = {
      id: randomUUID(),
      flowId,
      version,
      engine: v.engine,
      status: "queued",
      params,
      hash: v.approvedHash,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    };
    await this.deps.store.insertRun(run);
    this.dispatch(run.id);
    return run;
  }

  /** Runs left queued or running by a previous process are executed again; journaled calls are not repeated. */
  async resumeUnfinished(): Promise<string[]> {
    const runs = await this.deps.store.unfinishedRuns();
    for (const r of runs) this.dispatch(r.id);
    return runs.map((r) => r.id);
  }

  /** Resolves when the run has reached a final state (for tests and the CLI). */
  async waitFor(runId: string): Promise<void> {
    await this.finished.get(runId);
  }

  cancel(runId: string): boolean {
    const c = this.controllers.get(runId);
    c?.abort();
    return Boolean(c);
  }

  private dispatch(runId: string): void {
    const done = this.deps.queue
      .run<{ runId: string }, void>(RUN_JOB, { runId }, { jobId: runId })
      .catch(async (e) => {
        await this.finish(
          runId,
          "failed",
          `the run could not be executed: ${e instanceof Error ? e.message : String(e)}`,
        );
      });
    this.finished.set(runId, done);
    done.finally(() => this.finished.delete(runId));
  }

  private async execute(runId: string): Promise<void> {
    const run = await this.deps.store.getRun(runId);
    if (!run || FINAL.has(run.status)) return;
    const v = await this.deps.store.getVersion(run.flowId, run.version);
    if (!v) return this.finish(runId, "failed", "the run's flow version no longer exists");
    const plan = await this.planOf(v);
    try {
      if (run.hash !== v.approvedHash)
        throw new RunRefused("hash_mismatch", "the run was started for another approved hash");
      await this.verifyHash(v, plan);
    } catch (e) {
      return this.finish(runId, "failed", e instanceof Error ? e.message : String(e));
    }
    const controller = new AbortController();
    this.controllers.set(runId, controller);
    await this.deps.store.updateRun(runId, {
      status: "running",
      startedAt: run.startedAt ?? new Date().toISOString(),
    });
    const approvedHosts = new Set(Object.values(v.targets).flat());
    try {
      const result =
        v.engine === "flow"
          ? await this.flowEngine().execute({ run, version: v, approvedHosts }, controller.signal)
          : await this.deps.queueEngine.execute(
              { run, plan, targets: v.targets, approvedHosts },
              controller.signal,
            );
      await this.finish(runId, result.status, result.error);
    } catch (e) {
      await this.finish(runId, "failed", e instanceof Error ? e.message : String(e));
    } finally {
      this.controllers.delete(runId);
    }
  }

  private flowEngine(): FlowEngine {
    if (!this.deps.flowEngine) throw new Error("the flow engine is not available on this server");
    return this.deps.flowEngine;
  }

  private async finish(runId: string, status: RunStatus, error: string | null): Promise<void> {
    await this.deps.store.updateRun(runId, { status, error, finishedAt: new Date().toISOString() });
  }

  private async planOf(v: FlowVersionRecord): Promise<Plan> {
    const p = await this.deps.store.getPlan(v.planId);
    if (!p) throw new RunRefused("not_found", `plan ${v.planId} of flow ${v.flowId} is missing`);
    return p.plan;
  }

  private async verifyHash(v: FlowVersionRecord, plan: Plan): Promise<void> {
    if (storedRunnableHash(v, plan) !== v.approvedHash)
      throw new RunRefused(
        "hash_mismatch",
        "the stored flow differs from the approved one (hash mismatch): refusing to run it",
      );
  }
}

/** Caller's values checked against the plan's declared parameters; defaults fill the rest. */
export function resolveParams(declared: readonly Param[], raw: unknown): Record<string, unknown> {
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw)))
    throw new RunRefused("invalid_params", "params must be an object", "params");
  const given = (raw ?? {}) as Record<string, unknown>;
  const known = new Map(declared.map((p) => [p.name, p]));
  for (const name of Object.keys(given))
    if (!known.has(name))
      throw new RunRefused("invalid_params", `unknown parameter "${name}"`, `params.${name}`);
  const out: Record<string, unknown> = {};
  for (const p of declared) {
    const value = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
    if (value === null || value === undefined)
      throw new RunRefused("invalid_params", `parameter "${p.name}" is required`, `params.${p.name}`);
    if (!matchesType(p.type, value))
      throw new RunRefused(
        "invalid_params",
        `parameter "${p.name}" must be ${p.type === "hosts" ? "a list of host names" : `a ${p.type}`}`,
        `params.${p.name}`,
      );
    out[p.name] = value;
  }
  return out;
}

function matchesType(type: Param["type"], v: unknown): boolean {
  if (type === "hosts")
    return Array.isArray(v) && v.every((h) => typeof h === "string" && h.length > 0 && h.length <= 200);
  if (type === "number") return typeof v === "number" && Number.isFinite(v);
  if (type === "string") return typeof v === "string" && v.length <= 10_000;
  return typeof v === "boolean";
}
