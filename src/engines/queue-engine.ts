import { shellQuote } from "../capabilities/shell-quote";
import { CapabilityError } from "../capabilities/types";
import { type Action, type Plan, type Step, topologicalOrder } from "../plan/schema";
import type { RunRecord, StepResultRecord, StepStatus, Store } from "../store/types";
import type { CapabilityExecutor, EngineCall } from "./capability-executor";
import type { JobQueue } from "./job-queue";

/**
 * The lightweight engine: each (step × host) is one job on the queue, calling the capability
 * directly. Steps run one after another in dependency order, a step's hosts in parallel.
 * Only plans without flow-only features reach it (see route/flowOnlyFeatures).
 *
 * The job may run in any worker process: it carries only ids and loads what it needs from the
 * store. A (step × host) already finished in the store is not run again, and every capability
 * call goes through the journal, so a job retried after a crash does not repeat a command
 * that completed.
 */

export type StepJob = { runId: string; stepId: string; host: string };
export type RunContext = {
  run: RunRecord;
  plan: Plan;
  targets: Record<string, string[]>;
  approvedHosts: ReadonlySet<string>;
};
type StepOutcome = Pick<StepResultRecord, "status" | "exitCode" | "stdout" | "stderr" | "error" | "attempts">;

export type QueueEngineOptions = {
  /** Step jobs one process runs at once (all runs, all hosts). */
  concurrency?: number;
  /** Step jobs one process runs at once against the same host. */
  perHostConcurrency?: number;
  /** Cap on one attempt of a step when the step sets no timeoutMs. */
  defaultStepTimeoutMs?: number;
  /** How often a running job looks in the store for a cancel request. */
  cancelPollMs?: number;
};

const STEP_JOB = "queue.step";
const DEFAULT_HOST_CONCURRENCY = 10;
const FINISHED: ReadonlySet<StepStatus> = new Set([
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
  "timed_out",
]);

export class QueueEngine {
  /** Contexts of runs this process coordinates, and their cancel signals: the fast path. */
  private readonly local = new Map<string, { ctx: RunContext; signal?: AbortSignal }>();
  private readonly hostSlots = new Map<string, Semaphore>();
  private readonly options: Required<QueueEngineOptions>;

  constructor(
    private readonly deps: {
      queue: JobQueue;
      store: Store;
      executor: CapabilityExecutor;
      /** Builds a run's context from the store, for jobs of runs coordinated elsewhere. */
      loadContext: (runId: string) => Promise<RunContext | undefined>;
    } & QueueEngineOptions,
  ) {
    this.options = {
      concurrency: deps.concurrency ?? 32,
      perHostConcurrency: deps.perHostConcurrency ?? 4,
      defaultStepTimeoutMs: deps.defaultStepTimeoutMs ?? 600_000,
      cancelPollMs: deps.cancelPollMs ?? 500,
    };
    deps.queue.process<StepJob, StepOutcome>(STEP_JOB, (job) => this.runStepOnHost(job), {
      concurrency: this.options.concurrency,
    });
  }

  /** Runs every step of the plan; resolves with the run's final status. Resumable: finished step-hosts are skipped. */
  async execute(
    ctx: RunContext,
    signal?: AbortSignal,
  ): Promise<{ status: "succeeded" | "failed" | "cancelled"; error: string | null }> {
    this.local.set(ctx.run.id, { ctx, signal });
    try {
      const finished = new Map(
        (await this.deps.store.stepResults(ctx.run.id)).map((r) => [`${r.stepId}|${r.host}`, r]),
      );
      for (const step of topologicalOrder(ctx.plan)) {
        if (signal?.aborted) return { status: "cancelled", error: "cancelled" };
        const hosts = ctx.targets[step.id]?.length ? ctx.targets[step.id]! : [""];
        const outcomes = await mapLimited(hosts, step.concurrency ?? DEFAULT_HOST_CONCURRENCY, (host) => {
          const done = finished.get(`${step.id}|${host}`);
          if (done && FINISHED.has(done.status)) return Promise.resolve(done);
          return this.deps.queue.run<StepJob, StepOutcome>(
            STEP_JOB,
            { runId: ctx.run.id, stepId: step.id, host },
            { jobId: `${ctx.run.id}|${step.id}|${host}` },
          );
        });
        if (signal?.aborted || outcomes.some((o) => o.status === "cancelled"))
          return { status: "cancelled", error: "cancelled" };
        const failed = outcomes.filter((o) => o.status !== "succeeded");
        if (failed.length && step.onError?.mode !== "continue")
          return {
            status: "failed",
            error: `step "${step.id}" failed on ${failed.length} of ${hosts.length} host(s)`,
          };
      }
      return { status: "succeeded", error: null };
    } finally {
      this.local.delete(ctx.run.id);
    }
  }

  private async runStepOnHost(job: StepJob): Promise<StepOutcome> {
    const local = this.local.get(job.runId);
    const ctx = local?.ctx ?? (await this.deps.loadContext(job.runId));
    if (!ctx) throw new Error(`run ${job.runId} cannot be loaded`);
    const step = ctx.plan.steps.find((s) => s.id === job.stepId);
    if (!step) throw new Error(`run ${job.runId} has no step ${job.stepId}`);
    // A retried job (its worker died after finishing) hands back what was recorded.
    const prior = (await this.deps.store.stepResults(job.runId)).find(
      (r) => r.stepId === job.stepId && r.host === job.host,
    );
    if (prior && FINISHED.has(prior.status)) return prior;

    const release = await this.slots(job.host).acquire();
    const cancel = new AbortController();
    const onLocalAbort = () => cancel.abort();
    local?.signal?.addEventListener("abort", onLocalAbort);
    // The coordinator may be another process: a cancel request reaches this job through the store.
    const poll = setInterval(() => {
      this.deps.store
        .cancelRequested(job.runId)
        .then((yes) => yes && cancel.abort())
        .catch(() => undefined);
    }, this.options.cancelPollMs);
    try {
      const startedAt = new Date().toISOString();
      const record = (o: StepOutcome, finishedAt: string | null) =>
        this.deps.store.putStepResult({
          runId: job.runId,
          stepId: job.stepId,
          host: job.host,
          startedAt: prior?.startedAt ?? startedAt,
          finishedAt,
          ...o,
        });
      await record(
        { status: "running", attempts: 0, exitCode: null, stdout: "", stderr: "", error: null },
        null,
      );
      const outcome = await this.attempts(ctx, step, job.host, cancel.signal);
      await record(outcome, new Date().toISOString());
      return outcome;
    } finally {
      clearInterval(poll);
      local?.signal?.removeEventListener("abort", onLocalAbort);
      release();
    }
  }

  private slots(host: string): Semaphore {
    let s = this.hostSlots.get(host);
    if (!s) this.hostSlots.set(host, (s = new Semaphore(host ? this.options.perHostConcurrency : 1_000_000)));
    return s;
  }

  private async attempts(
    ctx: RunContext,
    step: Step,
    host: string,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
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
      const startedAt = new Date().toISOString();
      const base = { runId: ctx.run.id, stepId: step.id, host, attempt, startedAt };
      await this.deps.store.putAttempt({
        ...base,
        status: "running",
        exitCode: null,
        error: null,
        finishedAt: null,
      });
      outcome = { ...(await this.attempt(ctx, step, host, attempt, signal)), attempts: attempt };
      await this.deps.store.putAttempt({
        ...base,
        status: outcome.status,
        exitCode: outcome.exitCode,
        error: outcome.error,
        finishedAt: new Date().toISOString(),
      });
      if (outcome.status === "succeeded" || outcome.status === "cancelled" || signal.aborted) break;
      if (attempt < max && step.retry) {
        // Exponential backoff, journaled: a resumed run does not wait again for a pause already taken.
        const ms = Math.round(step.retry.backoffMs * step.retry.factor ** (attempt - 1));
        try {
          await this.deps.executor.execute(
            { name: "sleep", args: { ms } },
            { ...this.scope(ctx, step, host, `backoff:${attempt}`), signal },
          );
        } catch {
          return { ...outcome, status: "cancelled", error: "cancelled" };
        }
      }
    }
    return outcome;
  }

  /** One try, bounded by the step's timeout (or the default): on expiry its calls are aborted. */
  private async attempt(
    ctx: RunContext,
    step: Step,
    host: string,
    attempt: number,
    cancel: AbortSignal,
  ): Promise<Omit<StepOutcome, "attempts">> {
    const timeoutMs = step.timeoutMs ?? this.options.defaultStepTimeoutMs;
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(), timeoutMs);
    const signal = AbortSignal.any([cancel, timer.signal]);
    const scope = { ...this.scope(ctx, step, host, String(attempt)), signal };
    try {
      return await Promise.race([
        this.perform(ctx, step.action, host, step.timeoutMs, scope),
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () =>
            reject(
              timer.signal.aborted
                ? new CapabilityError("timeout", `step timed out after ${timeoutMs} ms`)
                : new CapabilityError("cancelled", "cancelled"),
            ),
          ),
        ),
      ]);
    } catch (e) {
      const code = e instanceof CapabilityError ? e.code : "failed";
      const status: StepStatus = timer.signal.aborted
        ? "timed_out"
        : cancel.aborted || code === "cancelled"
          ? "cancelled"
          : code === "timeout"
            ? "timed_out"
            : "failed";
      return {
        status,
        exitCode: null,
        stdout: "",
        stderr: "",
        error: e instanceof Error ? e.message : String(e),
      };
    } finally {
      clearTimeout(t);
    }
  }

  private async perform(
    ctx: RunContext,
    a: Action,
    host: string,
    timeoutMs: number | null | undefined,
    scope: ReturnType<QueueEngine["scope"]> & { signal: AbortSignal },
  ): Promise<Omit<StepOutcome, "attempts">> {
    const ok = { status: "succeeded" as const, exitCode: null, stdout: "", stderr: "", error: null };
    const call = (c: unknown) => this.deps.executor.execute(c as EngineCall, scope);
    const t = timeoutMs ?? null;
    switch (a.kind) {
      case "log":
        await call({ name: "log", args: { level: "info", message: render(a.message, ctx, host, false) } });
        return ok;
      case "sleep":
        await call({ name: "sleep", args: { ms: a.ms } });
        return ok;
      case "notify":
        await call({
          name: "notify",
          args: { channel: a.channel, message: render(a.message, ctx, host, false) },
        });
        return ok;
      case "ssh":
        return exitOutcome(
          await call({
            name: "ssh.exec",
            args: { host, command: render(a.command, ctx, host, true), timeoutMs: t },
          }),
        );
      case "powershell":
        // PowerShell quotes differently from sh: values are spliced as given, like the flow engine's templates.
        return exitOutcome(
          await call({
            name: "powershell.run",
            args: { host, script: render(a.script, ctx, host, false), timeoutMs: t },
          }),
        );
      case "net": {
        const r = (await call(
          a.check === "tcp"
            ? { name: "net.tcp", args: { host, port: a.port ?? 0, timeoutMs: t } }
            : a.check === "dns"
              ? { name: "net.dns", args: { host, type: null } }
              : { name: "net.ping", args: { host, timeoutMs: t } },
        )) as { ok?: boolean; error?: string | null; addresses?: string[]; latencyMs?: number | null };
        const passed = a.check === "dns" ? (r.addresses?.length ?? 0) > 0 : r.ok === true;
        return {
          status: passed ? "succeeded" : "failed",
          exitCode: null,
          stdout: JSON.stringify(r),
          stderr: "",
          error: passed ? null : (r.error ?? `${a.check} check failed`),
        };
      }
      case "http": {
        const r = (await call({
          name: "http.request",
          args: {
            host: host || null,
            method: a.method,
            url: render(a.url, ctx, host, false),
            headers: null,
            body: a.body,
            timeoutMs: t,
          },
        })) as { status: number; body: string };
        const passed = a.expectStatus === null ? r.status < 400 : r.status === a.expectStatus;
        return {
          status: passed ? "succeeded" : "failed",
          exitCode: null,
          stdout: r.body,
          stderr: "",
          error: passed ? null : `HTTP status ${r.status}`,
        };
      }
      default:
        throw new CapabilityError(
          "invalid_argument",
          `the queue engine does not run ${(a as { kind: string }).kind} steps`,
        );
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

function exitOutcome(raw: unknown): Omit<StepOutcome, "attempts"> {
  const r = raw as { exitCode: number | null; stdout: string; stderr: string };
  const status: StepStatus = r.exitCode === 0 ? "succeeded" : "failed";
  return {
    status,
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    error: status === "failed" ? `exit code ${r.exitCode}` : null,
  };
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

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
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
