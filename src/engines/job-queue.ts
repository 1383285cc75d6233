/**
 * The one queue abstraction both engines run on. Backends: in-process (memory-queue.ts),
 * BullMQ later. Named by intent: a caller adds a job and may wait for its result; a worker
 * registers what runs jobs of a name.
 */

export type JobOptions = {
  /** Deduplicates: adding a job whose id is already queued or running joins it instead. */
  jobId?: string;
};

export type JobHandler<T, R> = (data: T) => Promise<R>;

export interface JobQueue {
  readonly kind: "memory" | "bullmq";
  /** Registers the handler for jobs called `name`, running at most `concurrency` at once. */
  process<T, R>(name: string, handler: JobHandler<T, R>, options: { concurrency: number }): void;
  /** Adds a job and settles with its handler's result. */
  run<T, R>(name: string, data: T, options?: JobOptions): Promise<R>;
  /** Jobs waiting or running, per name. */
  counts(): Record<string, { waiting: number; active: number }>;
  close(): Promise<void>;
}
