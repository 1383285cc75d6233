import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import pg from "pg";
import { compileSource } from "../src/compile";
import { CapabilityExecutor } from "../src/engines/capability-executor";
import { BullQueue } from "../src/engines/bullmq-queue";
import { FlowEngine } from "../src/engines/flow-engine";
import type { JobQueue } from "../src/engines/job-queue";
import { MemoryQueue } from "../src/engines/memory-queue";
import { QueueEngine } from "../src/engines/queue-engine";
import { loadRunContext, Runs } from "../src/engines/runs";
import { dropRedisPrefix } from "../tests/engines/queues";
import { makePlanForBench } from "./engines-plan";
import { openStore } from "../src/store";
import type { FlowVersionRecord, RunRecord, Store } from "../src/store/types";
import { type Benchmark, type Figure, round, versus } from "./lib";

/**
 * Queue-engine throughput of trivial jobs on each backend against raw BullMQ with an empty
 * processor (same Redis, same run), and the flow engine on the workloads of Windmill's public
 * orchestrator benchmark, against the same computation run bare in this process.
 */

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PG_ADMIN = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const JOBS = 5_000;
const WARM_UP = 500;
const CONCURRENCY = 8;
const ROUNDS = 5;

/**
 * Both sides of the BullMQ comparison do the same: a fresh queue and worker (concurrency 8) on
 * the same Redis, WARM_UP jobs first (connections, Lua scripts, JIT), then `n` jobs added one
 * call each, all at once, timed until the last has completed. Raw BullMQ counts completions at
 * its worker and keeps no record of finished jobs (the cheapest setup); ours hands each result
 * back to its caller and keeps finished records for an hour (what replay and joining need).
 * Client CPU per job (this process, user + system) is less disturbed by other load than time.
 */
type QueueRound = { rate: number; cpuUsPerJob: number };

async function timed(n: number, go: () => Promise<void>): Promise<QueueRound> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await go();
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { rate: n / (ms / 1000), cpuUsPerJob: (used.user + used.system) / n };
}

async function queueThroughput(q: JobQueue, n: number): Promise<QueueRound> {
  q.process("trivial", async () => null, { concurrency: CONCURRENCY });
  await Promise.all(Array.from({ length: WARM_UP }, () => q.run("trivial", null)));
  return timed(n, async () => {
    await Promise.all(Array.from({ length: n }, () => q.run("trivial", null)));
  });
}

/** Raw BullMQ: concurrent adds, an empty processor, done when the worker has completed every job. */
async function rawBullmq(n: number): Promise<QueueRound> {
  const connection = {
    host: new URL(REDIS_URL).hostname,
    port: Number(new URL(REDIS_URL).port || 6379),
    maxRetriesPerRequest: null,
  };
  const prefix = `bench${randomBytes(4).toString("hex")}`;
  const queue = new Queue("raw", { connection, prefix });
  let done = 0;
  let target = 0;
  let finish: () => void = () => undefined;
  const worker = new Worker("raw", async () => null, { connection, prefix, concurrency: CONCURRENCY });
  worker.on("completed", () => {
    if (++done === target) finish();
  });
  await worker.waitUntilReady();
  const batch = async (count: number) => {
    target = done + count;
    const all = new Promise<void>((r) => (finish = r));
    await Promise.all(Array.from({ length: count }, () => queue.add("j", null, { removeOnComplete: true })));
    await all;
  };
  await batch(WARM_UP);
  const round = await timed(n, () => batch(n));
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return round;
}

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const FIB = `function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\n`;

function sequentialSource(steps: number, n: number): string {
  return `import { defineFlow, step } from "intentflow:sdk";\n${FIB}
export default defineFlow({ name: "sequential ${steps}" }, async () => {
  for (let i = 0; i < ${steps}; i++) {
    await step(\`s\${i}\`, {}, async (ctx) => {
      const value = fib(${n});
      await ctx.sleep(0);
      return value;
    });
  }
});
`;
}

function parallelSource(steps: number, n: number): string {
  return `import { defineFlow, step } from "intentflow:sdk";\n${FIB}
export default defineFlow({ name: "parallel ${steps}" }, async () => {
  const all: Promise<number>[] = [];
  for (let i = 0; i < ${steps}; i++)
    all.push(
      step(\`p\${i}\`, {}, async (ctx) => {
        const value = fib(${n});
        await ctx.sleep(0);
        return value;
      }),
    );
  await Promise.all(all);
});
`;
}

type Harness = { store: Store; flowEngine: FlowEngine; runs: Runs; close(): Promise<void> };

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "intentflow-bench-"));
  const store = await openStore({ kind: "sqlite", path: join(dir, "bench.db") });
  await store.migrate();
  const ssh = {
    exec: async () => {
      throw new Error("no SSH in this benchmark");
    },
    close: async () => undefined,
  };
  const executor = new CapabilityExecutor({ store, ssh: ssh as never } as never);
  const flowEngine = new FlowEngine({ store, executor, limits: { memoryMb: 64, timeoutMs: 600_000 } });
  const queue = new MemoryQueue();
  const queueEngine = new QueueEngine({
    queue,
    store,
    executor,
    loadContext: (id) => loadRunContext(store, id),
  });
  const runs = new Runs({ store, queue, queueEngine, flowEngine });
  return {
    store,
    flowEngine,
    runs,
    async close() {
      await queue.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function saveFlow(store: Store, source: string): Promise<FlowVersionRecord> {
  const compiled = await compileSource(source);
  if (!compiled.bundle || !compiled.hash)
    throw new Error(`the benchmark flow does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const plan = {
    id: randomUUID(),
    plan: makePlanForBench(),
    origin: "plan" as const,
    planner: null,
    createdAt: new Date().toISOString(),
  };
  const flow = { id: randomUUID(), name: "bench", createdAt: plan.createdAt };
  const version: FlowVersionRecord = {
    flowId: flow.id,
    version: 1,
    planId: plan.id,
    engine: "flow",
    status: "approved",
    targets: {},
    route: null,
    source,
    diagnostics: [],
    bundle: compiled.bundle,
    sourceMap: compiled.sourceMap,
    hash: compiled.hash,
    readOnly: true,
    createdAt: plan.createdAt,
    createdBy: "bench",
    approvedBy: "bench",
    approvedAt: plan.createdAt,
    approvedHash: compiled.hash,
    comment: null,
  };
  await store.saveVersion({ plan, flow, version });
  return version;
}

/** One run of the version straight on the flow engine (no queue): total milliseconds. */
async function flowRun(h: Harness, v: FlowVersionRecord): Promise<number> {
  const run: RunRecord = {
    id: randomUUID(),
    flowId: v.flowId,
    version: v.version,
    engine: "flow",
    status: "running",
    params: {},
    hash: v.approvedHash!,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  await h.store.insertRun(run);
  const t = performance.now();
  const result = await h.flowEngine.execute({ run, version: v, approvedHosts: new Set() });
  const ms = performance.now() - t;
  if (result.status !== "succeeded") throw new Error(`benchmark run ${result.status}: ${result.error}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bare(steps: number, n: number): number {
  const t = performance.now();
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += fib(n);
  if (sum < 0) throw new Error("unreachable");
  return performance.now() - t;
}

async function flowFigures(): Promise<Figure[]> {
  const h = await harness();
  const figures: Figure[] = [];
  try {
    const workloads = [
      {
        name: "40 sequential light steps (fib 10)",
        source: sequentialSource(40, 10),
        steps: 40,
        n: 10,
        samples: 10,
      },
      {
        name: "10 sequential long steps (fib 33)",
        source: sequentialSource(10, 33),
        steps: 10,
        n: 33,
        samples: 3,
      },
      {
        name: "10 parallel light steps (fib 10)",
        source: parallelSource(10, 10),
        steps: 10,
        n: 10,
        samples: 10,
      },
    ];
    for (const w of workloads) {
      const v = await saveFlow(h.store, w.source);
      await flowRun(h, v); // warm-up
      const totals: number[] = [];
      for (let i = 0; i < w.samples; i++) totals.push(await flowRun(h, v));
      const total = median(totals);
      const bareMs = median(Array.from({ length: 3 }, () => bare(w.steps, w.n)));
      const bareFig: Figure = { metric: `bare in process: ${w.name}`, value: round(bareMs, 3), unit: "ms" };
      figures.push(bareFig);
      figures.push(
        versus({ metric: `flow engine, SQLite: ${w.name}`, value: round(total, 2), unit: "ms" }, bareFig),
      );
      figures.push({
        metric: `flow engine overhead per step: ${w.name}`,
        value: round((total - bareMs) / w.steps, 3),
        unit: "ms",
      });
    }
    // The per-run fixed cost (isolate, bundle load, run record) apart from the per-step cost.
    const single = await saveFlow(h.store, sequentialSource(1, 10));
    await flowRun(h, single);
    const oneStep = median(
      await Promise.all(
        [0].map(async () => {
          const xs: number[] = [];
          for (let i = 0; i < 10; i++) xs.push(await flowRun(h, single));
          return median(xs);
        }),
      ),
    );
    const forty = figures.find((f) => f.metric.startsWith("flow engine, SQLite: 40"))!.value;
    figures.push({
      metric: "flow engine, SQLite: one-step flow (per-run fixed cost)",
      value: round(oneStep, 2),
      unit: "ms",
    });
    figures.push({
      metric: "flow engine marginal cost per journaled light step ((40-step − 1-step) ÷ 39)",
      value: round((forty - oneStep) / 39, 3),
      unit: "ms",
    });
    // Runs per second of a one-step flow, through Runs (queue, claim, hash check, run record).
    const one = await saveFlow(h.store, sequentialSource(1, 10));
    const started = performance.now();
    const N = 50;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push((await h.runs.start(one.flowId, 1, {})).id);
    await Promise.all(ids.map((id) => h.runs.waitFor(id)));
    const secs = (performance.now() - started) / 1000;
    const failed = (await Promise.all(ids.map((id) => h.store.getRun(id)))).filter(
      (r) => r?.status !== "succeeded",
    );
    if (failed.length) throw new Error(`${failed.length} one-step runs did not succeed: ${failed[0]?.error}`);
    figures.push({
      metric: "one-step flow runs per second (Runs.start → succeeded, SQLite)",
      value: round(N / secs, 1),
      unit: "runs/s",
    });
  } finally {
    await h.close();
  }
  return figures;
}

async function queueFigures(): Promise<Figure[]> {
  // Raw BullMQ and our BullMQ backend take turns, ROUNDS each, and swap who goes first every
  // round, so machine load and warm caches hit both alike; each figure is the median.
  const raw: QueueRound[] = [];
  const ours: QueueRound[] = [];
  const oursOnce = async () => {
    const prefix = `bench${randomBytes(4).toString("hex")}`;
    const redis = new BullQueue({ connection: { kind: "redis", url: REDIS_URL }, prefix });
    ours.push(await queueThroughput(redis, JOBS));
    await redis.close();
    await dropRedisPrefix(REDIS_URL, prefix);
  };
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      raw.push(await rawBullmq(JOBS));
      await oursOnce();
    } else {
      await oursOnce();
      raw.push(await rawBullmq(JOBS));
    }
  }
  const ratios = raw.map((r, i) => ours[i]!.rate / r.rate);
  const rawFig: Figure = {
    metric: `raw BullMQ, empty processor (c=${CONCURRENCY}, median of ${ROUNDS})`,
    value: round(median(raw.map((r) => r.rate))),
    unit: "jobs/s",
  };
  const figures: Figure[] = [rawFig];
  figures.push(
    versus(
      {
        metric: `JobQueue BullMQ on Redis (c=${CONCURRENCY}, result awaited, median of ${ROUNDS})`,
        value: round(median(ours.map((r) => r.rate))),
        unit: "jobs/s",
      },
      rawFig,
    ),
  );
  figures.push({
    metric: `JobQueue BullMQ ÷ raw BullMQ, per round (${ratios.map((r) => r.toFixed(2)).join(", ")}): median`,
    value: round(median(ratios), 3),
    unit: "×",
  });
  const rawCpu: Figure = {
    metric: "raw BullMQ: client CPU per job (median)",
    value: round(median(raw.map((r) => r.cpuUsPerJob)), 1),
    unit: "µs",
  };
  figures.push(rawCpu);
  figures.push(
    versus(
      {
        metric: "JobQueue BullMQ on Redis: client CPU per job (median)",
        value: round(median(ours.map((r) => r.cpuUsPerJob)), 1),
        unit: "µs",
      },
      rawCpu,
    ),
  );
  const mem = new MemoryQueue();
  figures.push(
    versus(
      {
        metric: "JobQueue in-process",
        value: round((await queueThroughput(mem, 50_000)).rate),
        unit: "jobs/s",
      },
      rawFig,
    ),
  );
  await mem.close();
  const name = `intentflow_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(PG_ADMIN);
    url.pathname = `/${name}`;
    const pgq = new BullQueue({ connection: { kind: "postgres", url: url.toString() } });
    figures.push(
      versus(
        {
          metric: `JobQueue BullMQ on PostgreSQL (c=${CONCURRENCY}, result awaited)`,
          value: round((await queueThroughput(pgq, 1_000)).rate),
          unit: "jobs/s",
        },
        rawFig,
      ),
    );
    await pgq.close();
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
  return figures;
}

const bench: Benchmark = {
  name: "engines",
  description:
    "queue backends vs raw BullMQ; flow engine on Windmill's benchmark workloads vs bare computation",
  async run() {
    return [...(await queueFigures()), ...(await flowFigures())];
  },
};
export default bench;
