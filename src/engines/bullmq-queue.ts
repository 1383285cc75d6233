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

type Lane = {
  queue: Queue;
  events: QueueEvents;
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
    let lane = this.lanes.get(name);
    if (lane) return lane;
    const queueName = name.replace(/[^A-Za-z0-9_-]/g, "_");
    const { queue, events } = this.open(queueName);
    lane = { queue, events, worker: null, handler: null, local: { waiting: 0, active: 0 } };
    // QueueEvents connection errors (Redis restarting) are retried by BullMQ; keep them from crashing.
    queue.on("error", () => undefined);
    events.on("error", () => undefined);
    this.lanes.set(name, lane);
    return lane;
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
        return await lane.handler!(job.data);
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
    lane.local.waiting++;
    try {
      const jobId = options.jobId ? safeJobId(options.jobId) : randomUUID();
      const add = () =>
        lane.queue.add(name, data, {
          jobId,
          removeOnComplete: { age: 3_600, count: 10_000 },
          removeOnFail: { age: 24 * 3_600 },
        });
      await lane.events.waitUntilReady();
      let job = await add();
      // Completion events can be missed (a Redis restart, an event stream trimmed): after each
      // quiet interval look at the job itself; a job that vanished with a Redis lacking
      // persistence is added again (the store's claims and the journal keep that safe).
      for (;;) {
        try {
          return (await job.waitUntilFinished(lane.events, FINISH_CHECK_MS)) as R;
        } catch (error) {
          if (!/timed out before finishing/.test(String(error))) throw error;
        }
        if (this.closed) throw new Error("the queue closed before the job finished");
        const current = await Job.fromId(lane.queue, jobId).catch(() => undefined);
        if (!current) job = await add();
        else if (current.finishedOn) {
          if (current.failedReason && (await current.isFailed())) throw new Error(current.failedReason);
          return current.returnvalue as R;
        } else job = current;
      }
    } finally {
      lane.local.waiting--;
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
        await l.worker?.close();
        await l.events.close();
        await l.queue.close();
      }),
    );
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
