import { randomUUID } from "node:crypto";
import { createPostgresBackend, Job, Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { JobHandler, JobOptions, JobQueue } from "./job-queue";

/**
 * BullMQ backend: jobs live in Redis (REDIS_URL) or, with BullMQ 6's PostgreSQL backend, in
 * the store's PostgreSQL; any number of worker processes on any number of machines take
 * them. `run()` settles with the job's result wherever it ran:
 *
 * - run by this process's worker: handed over directly, nothing more goes through Redis;
 * - run by another process, on Redis: that worker publishes the outcome on the lane's
 *   channel (one PUBLISH, only for jobs it did not add itself). BullMQ's QueueEvents would
 *   instead make every waiting process read and parse every event of every job (added,
 *   waiting, active, completed), which cost more client CPU than the job itself;
 * - on PostgreSQL: through QueueEvents;
 * - a message or event missed (a Redis restart, a dropped subscription): a job waited for
 *   longer than FINISH_CHECK_MS is looked at directly (its finished record is kept an hour).
 */

export type BullConnection = { kind: "redis"; url: string } | { kind: "postgres"; url: string };

export type BullQueueOptions = {
  connection: BullConnection;
  /** Namespace of every queue (a Redis key prefix; a schema on PostgreSQL). */
  prefix?: string;
  /** false: this process only adds jobs (`serve --no-worker`); workers elsewhere run them. */
  work?: boolean;
  /** How long a job's lock lasts without renewal: a crashed worker's job is taken over after this. */
  lockMs?: number;
};

/** How long run() waits for a completion event before checking the job directly. */
const FINISH_CHECK_MS = 2_000;

/** Jobs looked at directly per sweep, at most, and at once. */
const SWEEP_MAX = 500;
const SWEEP_PARALLEL = 50;

type Pending = {
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  since: number;
  /** This process's worker is running the job: it settles the entry itself. */
  local: boolean;
  add: () => Promise<void>;
};

/** What a job carries: the caller's data and which BullQueue added it. */
type Envelope = { origin: string; data: unknown };

/** The caller's data; a job added before jobs carried an envelope is its own data. */
function payload(data: unknown): unknown {
  const e = data as Partial<Envelope> | null;
  return e && typeof e === "object" && typeof e.origin === "string" && "data" in e ? e.data : data;
}

/** What a worker publishes when it finishes a job another process added. */
type OutcomeBody = { ok: true; value: unknown } | { ok: false; error: string };
type Outcome = OutcomeBody & { jobId: string };

type Lane = {
  queue: Queue;
  /** PostgreSQL only: on Redis, outcomes of jobs run elsewhere come over the lane's channel. */
  events: QueueEvents | null;
  eventsReady: Promise<unknown>;
  /** The Redis channel on which workers publish outcomes of jobs they did not add. */
  channel: string;
  /** Jobs this process waits for, by job id: settled by the local worker or by QueueEvents. */
  pending: Map<string, Pending>;
  sweeper: NodeJS.Timeout;
  sweeping: boolean;
  worker: Worker | null;
  handler: JobHandler<unknown, unknown> | null;
  local: { waiting: number; active: number };
};

export class BullQueue implements JobQueue {
  readonly kind = "bullmq" as const;
  /** Names this instance in the jobs it adds, so that a worker knows whose they are. */
  private readonly origin = randomUUID();
  private readonly lanes = new Map<string, Lane>();
  /** Redis only, opened on first use: outcomes published and outcomes heard. */
  private publisher: Redis | null = null;
  private subscriber: Redis | null = null;
  private subscribed: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: BullQueueOptions) {}

  get backend(): "redis" | "postgres" {
    return this.options.connection.kind;
  }

  private lane(name: string): Lane {
    const lane = this.lanes.get(name);
    if (lane) return lane;
    const queueName = name.replace(/[^A-Za-z0-9_-]/g, "_");
    const { queue, events } = this.open(queueName);
    const pending = new Map<string, Pending>();
    const created: Lane = {
      queue,
      events,
      eventsReady: events ? events.waitUntilReady() : Promise.resolve(),
      channel: `${this.options.prefix ?? "intentflow"}:${queueName}:outcomes`,
      pending,
      sweeper: setInterval(() => void this.sweepPending(created), FINISH_CHECK_MS),
      sweeping: false,
      worker: null,
      handler: null,
      local: { waiting: 0, active: 0 },
    };
    created.sweeper.unref();
    created.eventsReady.catch(() => undefined);
    if (events) {
      // One listener per lane, not one per job: results of jobs other processes ran.
      events.on("completed", ({ jobId, returnvalue }) =>
        pending.get(jobId)?.resolve(parseReturn(returnvalue)),
      );
      events.on("failed", ({ jobId, failedReason }) => pending.get(jobId)?.reject(new Error(failedReason)));
      events.on("error", () => undefined);
    } else {
      this.subscribe(created);
    }
    // Connection errors (Redis restarting) are retried by BullMQ; keep them from crashing the process.
    queue.on("error", () => undefined);
    this.lanes.set(name, created);
    return created;
  }

  /** Redis: hears outcomes of this lane's jobs that other processes ran. */
  private subscribe(lane: Lane): void {
    const c = this.options.connection;
    if (c.kind !== "redis") return;
    if (!this.subscriber) {
      const subscriber = new Redis(redisOptions(c.url));
      subscriber.on("error", () => undefined);
      subscriber.on("message", (channel: string, text: string) => this.heard(channel, text));
      this.subscriber = subscriber;
    }
    // ioredis subscribes again by itself after a reconnect; what is missed meanwhile, the sweep finds.
    const done = this.subscriber.subscribe(lane.channel).catch(() => undefined);
    this.subscribed = Promise.all([this.subscribed, done]);
  }

  private heard(channel: string, text: string): void {
    for (const lane of this.lanes.values()) {
      if (lane.channel !== channel) continue;
      let outcome: Outcome;
      try {
        outcome = JSON.parse(text) as Outcome;
      } catch {
        return;
      }
      const entry = lane.pending.get(outcome.jobId);
      if (!entry) return;
      if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(new Error(outcome.error));
      return;
    }
  }

  /** Tells other processes the outcome of a job they added (none is published for our own). */
  private publish(lane: Lane, job: Job | undefined, outcome: OutcomeBody): void {
    const c = this.options.connection;
    if (c.kind !== "redis" || !job?.id || (job.data as Envelope | null)?.origin === this.origin) return;
    this.publisher ??= new Redis(redisOptions(c.url)).on("error", () => undefined);
    this.publisher
      .publish(lane.channel, JSON.stringify({ jobId: job.id, ...outcome }))
      .catch(() => undefined);
  }

  private open(queueName: string): { queue: Queue; events: QueueEvents | null } {
    const c = this.options.connection;
    if (c.kind === "redis") {
      const connection = redisOptions(c.url);
      const prefix = this.options.prefix ?? "intentflow";
      return { queue: new Queue(queueName, { connection, prefix }), events: null };
    }
    const connection = {
      connectionString: c.url,
      schema: this.options.prefix ?? "intentflow_queue",
      migrate: true,
    };
    return {
      queue: new Queue(queueName, { connection }, createPostgresBackend) as unknown as Queue,
      events: new QueueEvents(queueName, { connection }, createPostgresBackend) as unknown as QueueEvents,
    };
  }

  process<T, R>(name: string, handler: JobHandler<T, R>, options: { concurrency: number }): void {
    const lane = this.lane(name);
    if (lane.handler) throw new Error(`a handler for "${name}" jobs is already registered`);
    lane.handler = handler as JobHandler<unknown, unknown>;
    if (this.options.work === false) return;
    const run = async (job: Job) => {
      lane.local.active++;
      const waiting = job.id ? lane.pending.get(job.id) : undefined;
      if (waiting) waiting.local = true;
      try {
        const result = await lane.handler!(payload(job.data));
        // A caller in this process gets the result now, without the round trip through events.
        if (job.id) lane.pending.get(job.id)?.resolve(result);
        return result;
      } catch (error) {
        if (job.id) lane.pending.get(job.id)?.reject(error);
        throw error;
      } finally {
        lane.local.active--;
      }
    };
    const c = this.options.connection;
    const common = {
      concurrency: options.concurrency,
      lockDuration: this.options.lockMs ?? 30_000,
      stalledInterval: Math.max(1_000, Math.floor((this.options.lockMs ?? 30_000) / 2)),
      // A job whose worker died is retried; the store's claims and the journal keep it from doing work twice.
      maxStalledCount: 1_000,
    };
    const worker =
      c.kind === "redis"
        ? new Worker(lane.queue.name, run, {
            ...common,
            connection: redisOptions(c.url),
            prefix: this.options.prefix ?? "intentflow",
          })
        : (new Worker(
            lane.queue.name,
            run,
            {
              ...common,
              connection: {
                connectionString: c.url,
                schema: this.options.prefix ?? "intentflow_queue",
                migrate: true,
              },
            },
            createPostgresBackend,
          ) as unknown as Worker);
    worker.on("error", () => undefined);
    // Recorded as finished in Redis by now: a caller elsewhere that misses this finds the record.
    worker.on("completed", (job, value) => this.publish(lane, job, { ok: true, value }));
    worker.on("failed", (job, error) => this.publish(lane, job, { ok: false, error: error.message }));
    lane.worker = worker;
  }

  async run<T, R>(name: string, data: T, options: JobOptions = {}): Promise<R> {
    if (this.closed) throw new Error("the queue is closed");
    const lane = this.lane(name);
    const jobId = options.jobId ? safeJobId(options.jobId) : randomUUID();
    const joined = lane.pending.get(jobId);
    if (joined) return joined.promise as Promise<R>;
    let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    const promise = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
    // Settling an entry forgets it at once: a second outcome (an event and a record) is a no-op.
    const forget = () => {
      if (lane.pending.get(jobId) !== entry) return false;
      lane.pending.delete(jobId);
      lane.local.waiting--;
      return true;
    };
    const entry: Pending = {
      promise,
      resolve: (v) => forget() && settle.resolve(v),
      reject: (e) => forget() && settle.reject(e),
      since: Date.now(),
      local: false,
      add: async () => undefined,
    };
    lane.pending.set(jobId, entry);
    lane.local.waiting++;
    const envelope: Envelope = { origin: this.origin, data };
    entry.add = async () => {
      await lane.queue.add(name, envelope, {
        jobId,
        // Kept so that a caller who missed the outcome, or joins later by id, finds it.
        removeOnComplete: { age: 3_600, count: 10_000 },
        removeOnFail: { age: 24 * 3_600 },
      });
    };
    try {
      await lane.eventsReady;
      await this.subscribed;
      if (options.jobId) {
        // A job already finished under this id (added by an earlier process) settles from its
        // record. Looked up alongside the add, not after it: one round trip, not two. (Either
        // order finds a job that existed before; a new one is not finished.)
        const [, existing] = await Promise.all([entry.add(), Job.fromId(lane.queue, jobId)]);
        if (existing?.finishedOn) await this.settleFromRecord(lane, jobId, existing);
      } else {
        await entry.add();
      }
    } catch (error) {
      entry.reject(error);
    }
    return promise as Promise<R>;
  }

  private async settleFromRecord(lane: Lane, jobId: string, job: Job): Promise<void> {
    const entry = lane.pending.get(jobId);
    if (!entry) return;
    if (job.failedReason && (await job.isFailed())) entry.reject(new Error(job.failedReason));
    else entry.resolve(job.returnvalue);
  }

  /**
   * Completion events can be missed (a Redis restart, a trimmed event stream): a job waited
   * for longer than FINISH_CHECK_MS is looked at directly; one that vanished (a Redis without
   * persistence) is added again, which the store's claims and the journal keep safe.
   */
  private async sweepPending(lane: Lane): Promise<void> {
    if (lane.sweeping) return;
    lane.sweeping = true;
    try {
      const now = Date.now();
      // Oldest first, a bounded number per sweep, several at once: thousands of queued jobs
      // must not turn the sweep into thousands of sequential round trips every 2 s.
      const due = [...lane.pending]
        .filter(([, e]) => !e.local && now - e.since >= FINISH_CHECK_MS)
        .sort((a, b) => a[1].since - b[1].since)
        .slice(0, SWEEP_MAX);
      for (let i = 0; i < due.length; i += SWEEP_PARALLEL)
        await Promise.all(due.slice(i, i + SWEEP_PARALLEL).map(([id, e]) => this.check(lane, id, e, now)));
    } finally {
      lane.sweeping = false;
    }
  }

  private async check(lane: Lane, jobId: string, entry: Pending, now: number): Promise<void> {
    entry.since = now;
    try {
      const job = await Job.fromId(lane.queue, jobId);
      if (!job) await entry.add();
      else if (job.finishedOn) await this.settleFromRecord(lane, jobId, job);
    } catch {
      // the backend is unreachable: try again at the next sweep
    }
  }

  counts(): Record<string, { waiting: number; active: number }> {
    return Object.fromEntries([...this.lanes].map(([n, l]) => [n, { ...l.local }]));
  }

  /** Resolves once every queue, event stream and worker has connected. */
  async ready(): Promise<void> {
    await Promise.all(
      [...this.lanes.values()].flatMap((l) => [
        l.queue.waitUntilReady(),
        ...(l.events ? [l.events.waitUntilReady()] : []),
        ...(l.worker ? [l.worker.waitUntilReady()] : []),
      ]),
    );
    await this.subscribed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.lanes.values()].map(async (l) => {
        clearInterval(l.sweeper);
        for (const p of l.pending.values()) p.reject(new Error("the queue closed before the job finished"));
        await l.worker?.close();
        await l.events?.close();
        await l.queue.close();
      }),
    );
    await Promise.all(
      [this.subscriber?.quit(), this.publisher?.quit()].map((p) => p?.catch(() => undefined)),
    );
  }
}

/** QueueEvents hands a result over as JSON text. */
function parseReturn(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** BullMQ's workers need `maxRetriesPerRequest: null`; a restarting Redis is waited for, not failed. */
function redisOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
  };
}

/** BullMQ reserves ':' in job ids (and a bare integer means a custom id clash). */
function safeJobId(id: string): string {
  return id.replace(/:/g, "_");
}
