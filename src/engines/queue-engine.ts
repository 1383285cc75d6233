import { shellQuote } from "../capabilities/shell-quote";
import { CapabilityError } from "../capabilities/types";
import { type Plan, type Step, topologicalOrder } from "../plan/schema";
import type { RunRecord, StepResultRecord, StepStatus, Store } from "../store/types";
import type { CapabilityExecutor } from "./capability-executor";
import type { JobQueue } from "./job-queue";

/**
 * The lightweight engine: each (step × host) is one job on the queue, calling the capability
 * directly. Steps run one after another in dependency order, a step's hosts in parallel.
 * Only plans without flow-only features reach it (see route/flowOnlyFeatures).
 */

export type StepJob = { runId: string; stepId: string; host: string };
export type RunContext = {
  run: RunRecord;
  plan: Plan;
  targets: Record<string, string[]>;
  approvedHosts: ReadonlySet<string>;
};
type StepOutcome = Pick<StepResultRecord, "status" | "exitCode" | "stdout" | "stderr" | "error" | "attempts">;

const STEP_JOB = "queue.step";
const DEFAULT_HOST_CONCURRENCY = 10;

export class QueueEngine {
  private readonly contexts = new Map<string, RunContext>();

  constructor(
    private readonly deps: {
      queue: JobQueue;
      store: Store;
      executor: CapabilityExecutor;
      concurrency?: number;
    },
  ) {
    deps.queue.process<StepJob, StepOutcome>(STEP_JOB, (job) => this.runStepOnHost(job), {
      concurrency: deps.concurrency ?? 32,
    });
  }

  /** Runs every step of the plan; resolves with the run's final status. Resumable: finished step-hosts are skipped. */
  async execute(
    ctx: RunContext,
    signal?: AbortSignal,
  ): Promise<{ status: "succeeded" | "failed" | "cancelled"; error: string | null }> {
    this.contexts.set(ctx.run.id, ctx);
    try {
      const finished = new Map(
        (await this.deps.store.stepResults(ctx.run.id)).map((r) => [`${r.stepId}|${r.host}`, r]),
      );
      for (const step of topologicalOrder(ctx.plan)) {
        if (signal?.aborted) return { status: "cancelled", error: "cancelled" };
        const hosts = ctx.targets[step.id]?.length ? ctx.targets[step.id]! : [""];
        const outcomes = await mapLimited(hosts, step.concurrency ?? DEFAULT_HOST_CONCURRENCY, (host) => {
          const done = finished.get(`${step.id}|${host}`);
          if (done && done.status !== "running" && done.status !== "pending") return Promise.resolve(done);
          return this.deps.queue.run<StepJob, StepOutcome>(
            STEP_JOB,
            { runId: ctx.run.id, stepId: step.id, host },
            {
              jobId: `${ctx.run.id}|${step.id}|${host}`,
            },
          );
        });
        const failed = outcomes.filter((o) => o.status !== "succeeded");
        if (failed.length && step.onError?.mode !== "continue")
          return {
            status: "failed",
            error: `step "${step.id}" failed on ${failed.length} of ${hosts.length} host(s)`,
          };
      }
      return { status: "succeeded", error: null };
    } finally {
      this.contexts.delete(ctx.run.id);
    }
  }

  private async runStepOnHost(job: StepJob): Promise<StepOutcome> {
    const ctx = this.contexts.get(job.runId);
    if (!ctx) throw new Error(`run ${job.runId} is not being executed by this engine`);
    const step = ctx.plan.steps.find((s) => s.id === job.stepId);
    if (!step) throw new Error(`run ${job.runId} has no step ${job.stepId}`);
    const startedAt = new Date().toISOString();
    const record = (o: StepOutcome, finishedAt: string | null) =>
      this.deps.store.putStepResult({
        runId: job.runId,
        stepId: job.stepId,
        host: job.host,
        startedAt,
        finishedAt,
        ...o,
      });
    await record(
      { status: "running", attempts: 0, exitCode: null, stdout: "", stderr: "", error: null },
      null,
    );
    const outcome = await this.attempts(ctx, step, job.host);
    await record(outcome, new Date().toISOString());
    return outcome;
  }

  private async attempts(ctx: RunContext, step: Step, host: string): Promise<StepOutcome> {
    const max = step.retry?.attempts ?? 1;
    let outcome: StepOutcome = {
      status: "failed",
      attempts: 0,
      exitCode: null,
      stdout: "",
      stderr: "",
      error: null,
    };
    for (let attempt = 1; attempt <= max; attempt++) {
      outcome = { ...(await this.attempt(ctx, step, host, attempt)), attempts: attempt };
      if (outcome.status === "succeeded" || outcome.status === "cancelled") break;
      if (attempt < max && step.retry) {
        const ms = Math.round(step.retry.backoffMs * step.retry.factor ** (attempt - 1));
        await this.deps.executor.execute(
          { name: "sleep", args: { ms } },
          this.scope(ctx, step, host, `backoff:${attempt}`),
        );
      }
    }
    return outcome;
  }

  private async attempt(
    ctx: RunContext,
    step: Step,
    host: string,
    attempt: number,
  ): Promise<Omit<StepOutcome, "attempts">> {
    const scope = this.scope(ctx, step, host, String(attempt));
    try {
      const a = step.action;
      if (a.kind === "log") {
        await this.deps.executor.execute(
          { name: "log", args: { level: "info", message: render(a.message, ctx, host, false) } },
          scope,
        );
        return { status: "succeeded", exitCode: null, stdout: "", stderr: "", error: null };
      }
      if (a.kind === "sleep") {
        await this.deps.executor.execute({ name: "sleep", args: { ms: a.ms } }, scope);
        return { status: "succeeded", exitCode: null, stdout: "", stderr: "", error: null };
      }
      if (a.kind !== "ssh")
        throw new CapabilityError(
          "invalid_argument",
          `the queue engine does not run ${a.kind} steps yet (step "${step.id}")`,
        );
      const command = render(a.command, ctx, host, true);
      const r = (await this.deps.executor.execute(
        { name: "ssh.exec", args: { host, command, timeoutMs: step.timeoutMs } },
        scope,
      )) as { exitCode: number | null; stdout: string; stderr: string };
      const status: StepStatus = r.exitCode === 0 ? "succeeded" : "failed";
      return {
        status,
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        error: status === "failed" ? `exit code ${r.exitCode}` : null,
      };
    } catch (e) {
      const code = e instanceof CapabilityError ? e.code : "failed";
      const status: StepStatus =
        code === "timeout" ? "timed_out" : code === "cancelled" ? "cancelled" : "failed";
      return {
        status,
        exitCode: null,
        stdout: "",
        stderr: "",
        error: e instanceof Error ? e.message : String(e),
      };
    }
  }

  private scope(ctx: RunContext, step: Step, host: string, part: string) {
    return {
      runId: ctx.run.id,
      key: `q|${step.id}|${host}|${part}`,
      stepId: step.id,
      host: host || null,
      approvedHosts: ctx.approvedHosts,
    };
  }
}

/** Fills {{params.x}} and {{host}}; in commands every value is shell-quoted, never spliced raw. */
function render(template: string, ctx: RunContext, host: string, quote: boolean): string {
  const params = ctx.run.params;
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, ref: string) => {
    const value = ref === "host" ? host : ref.startsWith("params.") ? params[ref.slice(7)] : undefined;
    if (value === undefined) throw new CapabilityError("invalid_argument", `no value for {{${ref}}}`);
    const text = Array.isArray(value) ? value.join(" ") : String(value);
    return quote ? shellQuote(text) : text;
  });
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
