import { randomUUID } from "node:crypto";
import { createPostgresBackend, Job, Queue, QueueEvents, Worker } from "bullmq";
import type { JobHandler, JobOptions, JobQueue } from "./job-queue";

/**
 * BullMQ backend: jobs live in Redis (REDIS_URL) or, with BullMQ 6's PostgreSQL backend, in
 * the store's PostgreSQL; any number of worker processes on any number of machines take
 * them. `run()` waits for the job's result through QueueEvents, so the caller may be in a
 * different process from the worker that ran it.
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

type Pending = {
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  since: number;
  add: () => Promise<void>;
};

type Lane = {
  queue: Queue;
  events: QueueEvents;
  eventsReady: Promise<unknown>;
  /** Jobs this process waits for, by job id: settled by the local worker or by QueueEvents. */
  pending: Map<string, Pending>;
  sweeper: NodeJS.Timeout;
  worker: Worker | null;
  handler: JobHandler<unknown, unknown> | null;
  local: { waiting: number; active: number };
};

export class BullQueue implements JobQueue {
  readonly kind = "bullmq" as const;
  private readonly lanes = new Map<string, Lane>();
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
      eventsReady: events.waitUntilReady(),
      pending,
      sweeper: setInterval(() => void this.sweepPending(created), FINISH_CHECK_MS),
      worker: null,
      handler: null,
      local: { waiting: 0, active: 0 },
    };
    created.sweeper.unref();
    created.eventsReady.catch(() => undefined);
    // One listener per lane, not one per job: results of jobs other processes ran.
    events.on("completed", ({ jobId, returnvalue }) => pending.get(jobId)?.resolve(parseReturn(returnvalue)));
    events.on("failed", ({ jobId, failedReason }) => pending.get(jobId)?.reject(new Error(failedReason)));
    // Connection errors (Redis restarting) are retried by BullMQ; keep them from crashing the process.
    queue.on("error", () => undefined);
    events.on("error", () => undefined);
    this.lanes.set(name, created);
    return created;
  }

  private open(queueName: string): { queue: Queue; events: QueueEvents } {
    const c = this.options.connection;
    if (c.kind === "redis") {
      const connection = redisOptions(c.url);
      const prefix = this.options.prefix ?? "intentflow";
      return {
        queue: new Queue(queueName, { connection, prefix }),
        events: new QueueEvents(queueName, { connection, prefix }),
      };
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
      try {
        const result = await lane.handler!(job.data);
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
    const entry: Pending = { promise, ...settle, since: Date.now(), add: async () => undefined };
    lane.pending.set(jobId, entry);
    const forget = () => lane.pending.delete(jobId);
    promise.then(forget, forget);
    lane.local.waiting++;
    promise.then(
      () => lane.local.waiting--,
      () => lane.local.waiting--,
    );
    entry.add = async () => {
      await lane.queue.add(name, data, {
        jobId,
        removeOnComplete: { age: 3_600, count: 10_000 },
        removeOnFail: { age: 24 * 3_600 },
      });
    };
    try {
      await lane.eventsReady;
      await entry.add();
      // A job already finished under this id (added by an earlier process) settles from its record.
      if (options.jobId) {
        const existing = await Job.fromId(lane.queue, jobId);
        if (existing?.finishedOn) await this.settleFromRecord(lane, jobId, existing);
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
    const now = Date.now();
    for (const [jobId, entry] of lane.pending) {
      if (now - entry.since < FINISH_CHECK_MS) continue;
      entry.since = now;
      try {
        const job = await Job.fromId(lane.queue, jobId);
        if (!job) await entry.add();
        else if (job.finishedOn) await this.settleFromRecord(lane, jobId, job);
      } catch {
        // the backend is unreachable: try again at the next sweep
      }
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
        l.events.waitUntilReady(),
        ...(l.worker ? [l.worker.waitUntilReady()] : []),
      ]),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.lanes.values()].map(async (l) => {
        clearInterval(l.sweeper);
        for (const p of l.pending.values()) p.reject(new Error("the queue closed before the job finished"));
        await l.worker?.close();
        await l.events.close();
        await l.queue.close();
      }),
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
