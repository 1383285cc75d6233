import type { JobHandler, JobOptions, JobQueue } from "./job-queue";

type Pending = { data: unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void };
type Lane = {
  handler: JobHandler<unknown, unknown>;
  concurrency: number;
  active: number;
  waiting: Pending[];
};

/** In-process backend: zero setup, FIFO per job name, bounded concurrency. */
export class MemoryQueue implements JobQueue {
  readonly kind = "memory" as const;
  private readonly lanes = new Map<string, Lane>();
  private readonly byJobId = new Map<string, Promise<unknown>>();
  private closed = false;

  process<T, R>(name: string, handler: JobHandler<T, R>, options: { concurrency: number }): void {
    if (this.lanes.has(name)) throw new Error(`a handler for "${name}" jobs is already registered`);
    this.lanes.set(name, {
      handler: handler as JobHandler<unknown, unknown>,
      concurrency: options.concurrency,
      active: 0,
      waiting: [],
    });
  }

  run<T, R>(name: string, data: T, options: JobOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(new Error("the queue is closed"));
    const lane = this.lanes.get(name);
    if (!lane) return Promise.reject(new Error(`no worker handles "${name}" jobs`));
    const key = options.jobId ? `${name}:${options.jobId}` : undefined;
    const joined = key ? this.byJobId.get(key) : undefined;
    if (joined) return joined as Promise<R>;
    const done = new Promise<unknown>((resolve, reject) => {
      lane.waiting.push({ data, resolve, reject });
      this.pump(lane);
    });
    if (key) {
      this.byJobId.set(key, done);
      const forget = () => this.byJobId.delete(key);
      done.then(forget, forget);
    }
    return done as Promise<R>;
  }

  counts(): Record<string, { waiting: number; active: number }> {
    return Object.fromEntries(
      [...this.lanes].map(([n, l]) => [n, { waiting: l.waiting.length, active: l.active }]),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values())
      for (const job of lane.waiting.splice(0)) job.reject(new Error("the queue closed before the job ran"));
  }

  private pump(lane: Lane): void {
    while (lane.active < lane.concurrency && lane.waiting.length) {
      const job = lane.waiting.shift()!;
      lane.active++;
      // A handler that throws synchronously must still release its slot.
      Promise.resolve()
        .then(() => lane.handler(job.data))
        .then(job.resolve, job.reject)
        .finally(() => {
          lane.active--;
          this.pump(lane);
        });
    }
  }
}
