import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { BullQueue } from "../../src/engines/bullmq-queue";
import type { JobQueue } from "../../src/engines/job-queue";
import { MemoryQueue } from "../../src/engines/memory-queue";
import { BACKENDS } from "../store/backends";

/**
 * Every queue backend, made fresh for a test: the same suites run on each. Redis and
 * PostgreSQL are required (CI starts them): when they are down these fail, they are not skipped.
 */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Removes every key under a BullMQ prefix: finished jobs are kept for an hour (replay and
 * joining by id read them), so a suite or benchmark that does not clean up leaves hundreds of
 * thousands of keys behind, which slow every later Redis snapshot on the machine.
 */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

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
      return { queues, drop: () => dropRedisPrefix(REDIS_URL, prefix) };
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
