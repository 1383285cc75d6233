import { randomBytes } from "node:crypto";
import { BullQueue } from "../../src/engines/bullmq-queue";
import type { JobQueue } from "../../src/engines/job-queue";
import { MemoryQueue } from "../../src/engines/memory-queue";
import { BACKENDS } from "../store/backends";

/**
 * Every queue backend, made fresh for a test: the same suites run on each. Redis and
 * PostgreSQL are required (CI starts them): when they are down these fail, they are not skipped.
 */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export type QueueBackend = {
  name: "memory" | "bullmq-redis" | "bullmq-postgres";
  /** `instances` queues sharing one backend namespace, as separate processes would. */
  create(instances?: number): Promise<{ queues: JobQueue[]; drop(): Promise<void> }>;
};

export const QUEUE_BACKENDS: QueueBackend[] = [
  {
    name: "memory",
    async create() {
      return { queues: [new MemoryQueue()], drop: async () => undefined };
    },
  },
  {
    name: "bullmq-redis",
    async create(instances = 1) {
      const prefix = `t${randomBytes(5).toString("hex")}`;
      const queues = Array.from(
        { length: instances },
        () => new BullQueue({ connection: { kind: "redis", url: REDIS_URL }, prefix, lockMs: 5_000 }),
      );
      return { queues, drop: async () => undefined };
    },
  },
  {
    name: "bullmq-postgres",
    async create(instances = 1) {
      const db = await BACKENDS.find((b) => b.name === "postgres")!.create();
      const url = (db.config as { url: string }).url;
      const queues = Array.from(
        { length: instances },
        () => new BullQueue({ connection: { kind: "postgres", url }, lockMs: 5_000 }),
      );
      return { queues, drop: () => db.drop() };
    },
  },
];
