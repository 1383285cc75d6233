import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Param, Plan } from "../plan/schema";
import { storedRunnableHash } from "../review/hash";
import type { CancelOutcome, FlowVersionRecord, RunRecord, RunStatus, Store } from "../store/types";
import type { FlowEngine } from "./flow-engine";
import type { JobQueue } from "./job-queue";
import type { QueueEngine, RunContext } from "./queue-engine";

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

export type RunsOptions = {
  /** How long a claim on a run holds without renewal: a crashed process's runs are taken over after this. */
  leaseMs?: number;
  /** Runs one process executes at once. */
  concurrency?: number;
  /** Told after a run's final state is stored (automatic library promotion); its errors are its own. */
  onFinished?: (run: { runId: string; status: RunStatus }) => Promise<void>;
};

export class Runs {
  /** This process, as the store's run claims name it. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly controllers = new Map<string, AbortController>();
  private readonly executing = new Set<string>();
  private readonly finished = new Map<string, Promise<void>>();
  private readonly leaseMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private dispatches = 0;
  private stopped = false;

  constructor(
    private readonly deps: {
      store: Store;
      queue: JobQueue;
      queueEngine: QueueEngine;
      flowEngine: FlowEngine | null;
    } & RunsOptions,
  ) {
    this.leaseMs = deps.leaseMs ?? 15_000;
    deps.queue.process<{ runId: string }, void>(RUN_JOB, ({ runId }) => this.execute(runId), {
      concurrency: deps.concurrency ?? 16,
    });
  }

  /** Validates and records a run, then hands it to the queue; resolves once it is queued. */
  /**
   * Validates and records a run, audits who asked for it (a person through the API, chat or
   * MCP, or a schedule), then hands it to the queue; resolves once it is queued.
   */
  async start(
    flowId: string,
    version: number,
    rawParams: unknown,
    by: { actor: string; via: string; detail?: Record<string, unknown> } = { actor: "system", via: "api" },
  ): Promise<RunRecord> {
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
    await this.deps.store.appendAudit({
      at: run.createdAt,
      actor: by.actor,
      action: "run.started",
      subject: `run:${run.id}`,
      detail: { flowId, version, engine: run.engine, hash: run.hash, via: by.via, ...by.detail },
    });
    this.dispatch(run.id, false);
    return run;
  }

  /**
   * Runs left queued or running by a process that stopped (its claim expired) are executed
   * again; journaled calls are not repeated. Runs another live process holds are left to it.
   */
  async resumeUnfinished(): Promise<string[]> {
    const runs = await this.deps.store.claimableRuns();
    for (const r of runs) if (!this.finished.has(r.id)) this.dispatch(r.id, true);
    return runs.map((r) => r.id);
  }

  /** Looks for orphaned runs every lease period, so a worker that dies mid-run is taken over. */
  startSweeping(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.resumeUnfinished().catch(() => undefined);
    }, this.leaseMs);
    this.sweeper.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Resolves when the run has reached a final state (for tests and the CLI). */
  async waitFor(runId: string): Promise<void> {
    await this.finished.get(runId);
  }

  /**
   * Aborts the run if this process executes it (true), and in any case records the request
   * in the store, where the process that executes it sees it at its next heartbeat.
   */
  cancel(runId: string): boolean {
    const c = this.controllers.get(runId);
    c?.abort();
    this.deps.store.requestCancel(runId).catch(() => undefined);
    return Boolean(c);
  }

  /** The cancel for any process: a queued run ends at once, a running one is aborted by its owner. */
  async requestCancel(runId: string): Promise<CancelOutcome> {
    this.controllers.get(runId)?.abort();
    return this.deps.store.requestCancel(runId);
  }

  private dispatch(runId: string, resume: boolean): void {
    // A resumed run gets a fresh job id: it must not join (or be deduplicated into) the dead job.
    const jobId = resume ? `${runId}.${Date.now()}.${++this.dispatches}` : runId;
    const done = this.deps.queue
      .run<{ runId: string }, void>(RUN_JOB, { runId }, { jobId })
      .catch(async (e) => {
        if (this.stopped) return;
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
    // Two jobs for one run can reach the same process (a start and a sweep): the store's claim
    // lets its owner renew, so this process must itself refuse the second.
    if (this.executing.has(runId)) return;
    this.executing.add(runId);
    try {
      // Of the processes that got this run (a retried job, a sweeper), one executes it.
      if (!(await this.deps.store.claimRun(runId, this.owner, this.leaseMs))) return;
      await this.executeClaimed(run);
    } finally {
      this.executing.delete(runId);
    }
  }

  private async executeClaimed(run: RunRecord): Promise<void> {
    const runId = run.id;
    const controller = new AbortController();
    let lost = false;
    const heartbeat = setInterval(
      () => {
        this.deps.store
          .heartbeatRun(runId, this.owner, this.leaseMs)
          .then((h) => {
            if (!h.held) lost = true;
            if (h.cancelRequested || !h.held) controller.abort();
          })
          .catch(() => undefined);
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      if (await this.deps.store.cancelRequested(runId))
        return await this.finish(runId, "cancelled", "cancelled");
      const v = await this.deps.store.getVersion(run.flowId, run.version);
      if (!v) return await this.finish(runId, "failed", "the run's flow version no longer exists");
      const plan = await this.planOf(v);
      try {
        if (run.hash !== v.approvedHash)
          throw new RunRefused("hash_mismatch", "the run was started for another approved hash");
        await this.verifyHash(v, plan);
      } catch (e) {
        return await this.finish(runId, "failed", e instanceof Error ? e.message : String(e));
      }
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
        // A process that lost its claim (it stalled past the lease) leaves the run to its new owner.
        if (!lost) await this.finish(runId, result.status, result.error);
      } catch (e) {
        if (!lost) await this.finish(runId, "failed", e instanceof Error ? e.message : String(e));
      }
    } finally {
      clearInterval(heartbeat);
      this.controllers.delete(runId);
      await this.deps.store.releaseRun(runId, this.owner).catch(() => undefined);
    }
  }

  private flowEngine(): FlowEngine {
    if (!this.deps.flowEngine) throw new Error("the flow engine is not available on this server");
    return this.deps.flowEngine;
  }

  private async finish(runId: string, status: RunStatus, error: string | null): Promise<void> {
    await this.deps.store.updateRun(runId, { status, error, finishedAt: new Date().toISOString() });
    await this.deps.onFinished?.({ runId, status }).catch(() => undefined);
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

/** A run's context rebuilt from the store, for step jobs of runs coordinated by another process. */
export async function loadRunContext(store: Store, runId: string): Promise<RunContext | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const v = await store.getVersion(run.flowId, run.version);
  const p = v && (await store.getPlan(v.planId));
  if (!v || !p) return undefined;
  if (run.hash !== v.approvedHash || storedRunnableHash(v, p.plan) !== v.approvedHash)
    throw new RunRefused("hash_mismatch", "the stored flow differs from the approved one (hash mismatch)");
  return { run, plan: p.plan, targets: v.targets, approvedHosts: new Set(Object.values(v.targets).flat()) };
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
