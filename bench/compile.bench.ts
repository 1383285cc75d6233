import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { transform } from "esbuild";
import { createCompiler } from "../src/compile";
import { FLOW_COMPILER_OPTIONS } from "../src/compile/typecheck";
import { Plan, type Step } from "../src/plan/schema";
import { type Benchmark, type Figure, percentile, round, sample, versus } from "./lib";

/**
 * The compiler's speed against two baselines measured in the same run: esbuild's transform
 * of the same source (the floor: parsing and printing TypeScript, nothing more) and a cold
 * `tsc --noEmit` of it (what type-checking costs without a warm compiler).
 */

const RUNS = 50;
const COLD_RUNS = 50;
const TSC_RUNS = 5;
const FRESH_RUNS = 3;
const MEMORY_COMPILES = 1000;
const SIZES = [1, 10, 50];
const HOSTS = ["web1", "web2", "web3"];

/** A plan of `n` steps that uses every feature in turn: the kind of plan the corpus holds. */
export function syntheticPlan(n: number, variant = 0): Plan {
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const id = `step_${i}`;
    const prev = i > 0 ? [`step_${i - 1}`] : [];
    const base: Step = {
      id,
      name: `Step ${i}`,
      description: `Purpose of step ${i}`,
      action: { kind: "ssh", command: `systemctl is-active svc${i} --variant ${variant}` },
      targets: HOSTS,
      dependsOn: i % 3 === 2 ? [] : prev,
      when: null,
      until: null,
      retry: null,
      timeoutMs: null,
      concurrency: null,
      onError: null,
      trigger: "normal",
    };
    switch (i % 6) {
      case 1:
        base.when = { step: `step_${i - 1}`, field: "exitCode", op: "ne", value: 0, perHost: true };
        base.action = { kind: "ssh", command: `sudo systemctl restart svc${i}` };
        break;
      case 2:
        base.retry = { attempts: 3, backoffMs: 500, factor: 2 };
        base.timeoutMs = 30_000;
        break;
      case 3:
        base.until = { field: "stdout", op: "eq", value: "active", intervalMs: 1000, timeoutMs: 60_000 };
        base.onError = { mode: "continue", steps: null };
        break;
      case 4:
        base.action = {
          kind: "http",
          method: "GET",
          url: `http://{{host}}:8080/health/${i}`,
          body: null,
          expectStatus: 200,
        };
        base.concurrency = 2;
        break;
      case 5:
        base.action = { kind: "ssh", command: `echo {{steps.step_${i - 1}.stdout}} > /tmp/out${i}` };
        base.dependsOn = prev;
        break;
    }
    steps.push(base);
  }
  return Plan.parse({ title: `Synthetic plan of ${n} steps`, intent: `benchmark ${n}`, params: [], steps });
}

const targetsOf = (plan: Plan) =>
  Object.fromEntries(plan.steps.filter((s) => s.targets).map((s) => [s.id, HOSTS]));

type Stages = { codegen: number[]; typecheck: number[]; bundle: number[]; total: number[] };

/** Compiles a different variant of the plan each run (no two sources alike), timing each stage. */
async function timeCompiles(
  runs: number,
  compilerFor: (i: number) => ReturnType<typeof createCompiler>,
  n: number,
  /** When given, each run's source is also run through esbuild's transform, timed here. */
  floor?: number[],
): Promise<Stages> {
  const out: Stages = { codegen: [], typecheck: [], bundle: [], total: [] };
  for (let i = 0; i < runs; i++) {
    const plan = syntheticPlan(n, i + 1);
    const targets = targetsOf(plan);
    const compiler = compilerFor(i);
    const start = performance.now();
    const result = await compiler.compilePlan(plan, targets);
    out.total.push(performance.now() - start);
    if (!result.bundle)
      throw new Error(`benchmark plan did not compile: ${JSON.stringify(result.diagnostics)}`);
    out.codegen.push(result.timings.codegenMs);
    out.typecheck.push(result.timings.typecheckMs);
    out.bundle.push(result.timings.bundleMs);
    if (floor) {
      const t = performance.now();
      await transform(result.source, { loader: "ts" });
      floor.push(performance.now() - t);
    }
  }
  return out;
}

/** The first compile in a fresh Node process (TypeScript loaded, lib files parsed, esbuild started). */
function freshProcessCompile(n: number): number {
  const r = spawnSync(
    process.execPath,
    ["--no-node-snapshot", "--import", "tsx", fileURLToPath(import.meta.url)],
    {
      encoding: "utf8",
      env: { ...process.env, COMPILE_BENCH_CHILD: String(n) },
    },
  );
  const ms = Number(/^first compile (\S+) ms$/m.exec(r.stdout)?.[1]);
  if (!Number.isFinite(ms)) throw new Error(`fresh-process compile failed: ${r.stdout}${r.stderr}`);
  return ms;
}

if (process.env.COMPILE_BENCH_CHILD === "memory") {
  console.log(`figures ${JSON.stringify(await memoryFigures())}`);
  process.exit(0);
} else if (process.env.COMPILE_BENCH_CHILD) {
  const plan = syntheticPlan(Number(process.env.COMPILE_BENCH_CHILD));
  const start = performance.now();
  const out = await createCompiler().compilePlan(plan, targetsOf(plan));
  if (!out.bundle) throw new Error("the benchmark plan did not compile");
  console.log(`first compile ${performance.now() - start} ms`);
  process.exit(0);
}

function stageFigures(prefix: string, stages: Stages): Figure[] {
  // The bundle is built while the type check runs: its figure is the wait left after the check.
  const label = (stage: keyof Stages) => (stage === "bundle" ? "bundle wait" : stage);
  return (Object.keys(stages) as (keyof Stages)[]).flatMap((stage) => [
    { metric: `${prefix} ${label(stage)} p50`, value: round(percentile(stages[stage], 50), 3), unit: "ms" },
    { metric: `${prefix} ${label(stage)} p95`, value: round(percentile(stages[stage], 95), 3), unit: "ms" },
  ]);
}

/** `tsc --noEmit` in a fresh process over the flow and the SDK declarations, as a person would run it. */
function coldTsc(source: string): number {
  const dir = mkdtempSync(join(tmpdir(), "intentflow-tsc-"));
  try {
    writeFileSync(join(dir, "flow.ts"), source);
    copyFileSync(new URL("../sandbox/sdk.d.ts", import.meta.url), join(dir, "sdk.d.ts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["es2022"],
          types: [],
          noEmit: true,
          skipLibCheck: FLOW_COMPILER_OPTIONS.skipLibCheck,
          isolatedModules: true,
        },
        files: ["sdk.d.ts", "flow.ts"],
      }),
    );
    const start = performance.now();
    const r = spawnSync(join(process.cwd(), "node_modules/.bin/tsc"), ["--noEmit", "-p", dir], {
      encoding: "utf8",
    });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`tsc rejected the benchmark flow: ${r.stdout}${r.stderr}`);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function memoryInChild(): Figure[] {
  const r = spawnSync(
    process.execPath,
    ["--no-node-snapshot", "--import", "tsx", fileURLToPath(import.meta.url)],
    {
      encoding: "utf8",
      env: { ...process.env, COMPILE_BENCH_CHILD: "memory" },
    },
  );
  const json = /^figures (.*)$/m.exec(r.stdout)?.[1];
  if (!json) throw new Error(`memory run failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(json) as Figure[];
}

/**
 * Memory once the process has settled: a full collection, a second for what the first
 * finalised, each followed by a pause in which V8's concurrent sweepers hand freed pages
 * back (right after a collection they are still counted in the RSS). This is what a warm
 * compiler holds between bursts; the peak during a burst is reported beside it.
 */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return process.memoryUsage();
}

async function memoryFigures(): Promise<Figure[]> {
  const compiler = createCompiler();
  const plans = Array.from({ length: 50 }, (_, v) => syntheticPlan(10, v));
  for (const p of plans) await compiler.compilePlan(p, targetsOf(p));
  const before = await settledMemory();
  let peakRss = 0;
  const compileMany = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const p = plans[i % plans.length]!;
      const out = await compiler.compilePlan(p, targetsOf(p));
      if (!out.bundle) throw new Error("memory run: plan did not compile");
      if (i % 50 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    return settledMemory();
  };
  const after = await compileMany(MEMORY_COMPILES);
  // As many again: memory that keeps growing is a leak, memory that levels off is not.
  const twice = await compileMany(MEMORY_COMPILES);
  const mb = (n: number) => round(n / 1024 / 1024, 1);
  return [
    { metric: "rss of a warmed-up compiler process", value: mb(before.rss), unit: "MB" },
    { metric: `rss after ${MEMORY_COMPILES} warm compiles`, value: mb(after.rss), unit: "MB" },
    { metric: `rss after ${2 * MEMORY_COMPILES} warm compiles`, value: mb(twice.rss), unit: "MB" },
    {
      metric: `peak rss during ${2 * MEMORY_COMPILES} back-to-back compiles`,
      value: mb(peakRss),
      unit: "MB",
    },
    { metric: `heap used after ${MEMORY_COMPILES} compiles`, value: mb(after.heapUsed), unit: "MB" },
    { metric: `heap used after ${2 * MEMORY_COMPILES} compiles`, value: mb(twice.heapUsed), unit: "MB" },
    {
      metric: `heap growth over the first ${MEMORY_COMPILES} compiles`,
      value: mb(after.heapUsed - before.heapUsed),
      unit: "MB",
    },
  ];
}

const bench: Benchmark = {
  name: "compile",
  description: `plan → checked bundle for plans of ${SIZES.join(", ")} steps: warm and cold, against esbuild transform and cold tsc`,
  async run() {
    // Memory in a process of its own that loads only the compiler (not this harness).
    const figures: Figure[] = memoryInChild();
    const warm = createCompiler();
    for (const n of SIZES) {
      const plan = syntheticPlan(n);
      const source = (await warm.compilePlan(plan, targetsOf(plan))).source;
      figures.push({ metric: `${n} steps: source lines`, value: source.split("\n").length, unit: "lines" });

      await sample(10, () => transform(source, { loader: "ts" }));
      await timeCompiles(10, () => warm, n);
      // The floor is measured between the warm compiles, on the same sources: whatever else
      // the machine is doing weighs on both alike.
      const floor: number[] = [];
      const warmStages = await timeCompiles(RUNS, () => warm, n, floor);
      const floorP50 = p50(`${n} steps: esbuild transform`, floor);
      figures.push(floorP50);
      figures.push(...stageFigures(`${n} steps: warm`, warmStages));
      const warmTotal = p50(`${n} steps: warm total`, warmStages.total);

      const coldStages = await timeCompiles(COLD_RUNS, () => createCompiler(), n);
      figures.push(...stageFigures(`${n} steps: cold (new Compiler)`, coldStages));
      const fresh = Array.from({ length: FRESH_RUNS }, () => freshProcessCompile(n));
      figures.push(p50(`${n} steps: first compile in a fresh process`, fresh));

      const tscP50 = p50(
        `${n} steps: cold tsc --noEmit`,
        Array.from({ length: TSC_RUNS }, () => coldTsc(source)),
      );
      figures.push(tscP50);
      figures.push(versus({ ...warmTotal, metric: `${n} steps: warm total p50 ÷ esbuild floor` }, floorP50));
      figures.push(versus({ ...tscP50, metric: `${n} steps: cold tsc ÷ warm total p50` }, warmTotal));
    }
    return figures;
  },
};

const p50 = (metric: string, samples: number[]): Figure => ({
  metric: `${metric} p50`,
  value: round(percentile(samples, 50), 3),
  unit: "ms",
});

export default bench;
