import { readdirSync, readFileSync } from "node:fs";
import ivm from "isolated-vm";
import { compileSource } from "../src/compile";
import { type RunFlowOptions, runFlow, sandboxPool } from "../src/sandbox/runner";
import { type Benchmark, type Figure, percentile, round, sample, versus } from "./lib";

/**
 * The sandbox's cost. Floor: raw isolated-vm (new isolate + context + compile + run of a
 * trivial script, then dispose), measured in the same run. Against it: a trivial flow through
 * runFlow in-process and through the worker-process pool (IPC included); runs per second on
 * the pool; and memory per run with 100 runs in flight at once. The floor and the runs are
 * sampled in interleaved rounds, so that a busy moment on the machine lands on all of them.
 */

const N = 300;
const SPACED = 150;
const ROUNDS = 6;
const TRIVIAL =
  'import { defineFlow } from "intentflow:sdk";\nexport default defineFlow({ name: "trivial" }, async () => {});\n';
const WAITING =
  'import { defineFlow, sleep } from "intentflow:sdk";\nexport default defineFlow({ name: "waiting" }, async () => { await sleep(1); });\n';
const RAW = "(() => { const flow = { name: 'trivial' }; return flow.name.length; })()";

function rawFloor(): void {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = isolate.createContextSync();
  isolate.compileScriptSync(RAW).runSync(context);
  isolate.dispose();
}

function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    kb += Number(m?.[1] ?? 0);
  }
  return kb / 1024;
}

/** CPU time (ms) the processes' threads have had so far: the same on a busy machine or a quiet one. */
function cpuMs(pids: number[]): number {
  let ns = 0;
  for (const pid of pids)
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
  return ns / 1e6;
}

async function bundleOf(source: string): Promise<string> {
  const out = await compileSource(source);
  if (!out.bundle) throw new Error(JSON.stringify(out.diagnostics));
  return out.bundle;
}

function options(
  bundle: string,
  isolation: RunFlowOptions["isolation"],
  call: RunFlowOptions["call"],
): RunFlowOptions {
  return {
    bundle,
    params: {},
    allowedHosts: [],
    call,
    onEvent: () => {},
    limits: { memoryMb: 64, timeoutMs: 30_000 },
    isolation,
  };
}

const stats = (label: string, samples: number[]): Figure[] => [
  { metric: `${label} p50`, value: round(percentile(samples, 50), 3), unit: "ms" },
  { metric: `${label} p95`, value: round(percentile(samples, 95), 3), unit: "ms" },
];

async function succeed(promise: Promise<{ status: string; error: string | null }>): Promise<void> {
  const r = await promise;
  if (r.status !== "succeeded") throw new Error(`run ${r.status}: ${r.error}`);
}

const bench: Benchmark = {
  name: "sandbox",
  description:
    "per-run overhead vs raw isolated-vm, runs/s on the worker pool, memory with 100 runs in flight",
  async run() {
    const trivial = await bundleOf(TRIVIAL);
    const waiting = await bundleOf(WAITING);
    const noCall: RunFlowOptions["call"] = async () => null;

    const inProcess = () => succeed(runFlow(options(trivial, "in-process", noCall)));
    const pooledRun = () => succeed(runFlow(options(trivial, "process", noCall)));
    await sandboxPool().start();
    await sample(50, rawFloor);
    await sample(50, inProcess);
    await sample(50, pooledRun);

    // Interleaved in rounds, so that the floor and the runs share whatever else the machine is
    // doing: each round takes a block of each back to back, then runs arriving 10 ms apart (the
    // usual case for a service: the prepared context is ready when each starts).
    const floor: number[] = [];
    const backIn: number[] = [];
    const backPool: number[] = [];
    const spacedIn: number[] = [];
    const spacedPool: number[] = [];
    const pause = () => new Promise((r) => setTimeout(r, 10));
    const timed = async (into: number[], fn: () => Promise<void>) => {
      await pause();
      const t = performance.now();
      await fn();
      into.push(performance.now() - t);
    };
    // CPU time per run, all threads of this process and the workers: wall-clock figures on a
    // shared two-core machine move with whatever else runs; this moves much less.
    const cpu = { floor: 0, in: 0, pool: 0 };
    const cpuOf = async (key: keyof typeof cpu, into: number[], fn: () => unknown) => {
      const pids = [process.pid, ...sandboxPool().pids];
      const c0 = cpuMs(pids);
      into.push(...(await sample(N / ROUNDS, fn)));
      cpu[key] += cpuMs(pids) - c0;
    };
    for (let round = 0; round < ROUNDS; round++) {
      await cpuOf("floor", floor, rawFloor);
      await cpuOf("in", backIn, inProcess);
      await cpuOf("pool", backPool, pooledRun);
      for (let i = 0; i < SPACED / ROUNDS; i++) {
        await timed(spacedIn, inProcess);
        await timed(spacedPool, pooledRun);
      }
    }
    const [sin50, sin95] = stats("runFlow in-process, runs 10 ms apart", spacedIn);
    const [spool50, spool95] = stats("runFlow in a worker process, runs 10 ms apart", spacedPool);
    const [floor50, floor95] = stats("raw isolated-vm floor", floor);
    const [in50, in95] = stats("runFlow in-process, back to back", backIn);
    const [pool50, pool95] = stats("runFlow in a worker process, back to back", backPool);
    const cpuFigure = (label: string, total: number): Figure => ({
      metric: `CPU per run, ${label}`,
      value: round(total / N, 3),
      unit: "ms",
    });
    const cpuFloor = cpuFigure("raw isolated-vm floor", cpu.floor);

    // Throughput: 2,000 trivial runs, 64 in flight, over the pool's workers.
    const total = 2_000;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next++ < total) await succeed(runFlow(options(trivial, "process", noCall)));
      }),
    );
    const perSecond = total / ((performance.now() - t0) / 1000);

    // Memory: 100 runs each parked in a capability call until all 100 are in flight.
    const pids = [process.pid, ...sandboxPool().pids];
    const before = rssMb(pids);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let parked = 0;
    let allParked: () => void = () => {};
    const full = new Promise<void>((r) => (allParked = r));
    const park: RunFlowOptions["call"] = async () => {
      if (++parked === 100) allParked();
      await gate;
      return null;
    };
    const runs = Array.from({ length: 100 }, () => succeed(runFlow(options(waiting, "process", park))));
    await full;
    const during = rssMb(pids);
    release();
    await Promise.all(runs);

    return [
      floor50!,
      floor95!,
      versus(in50!, floor50!),
      versus(in95!, floor95!),
      versus(pool50!, floor50!),
      versus(pool95!, floor95!),
      versus(sin50!, floor50!),
      versus(sin95!, floor95!),
      versus(spool50!, floor50!),
      versus(spool95!, floor95!),
      cpuFloor,
      versus(cpuFigure("runFlow in-process, back to back", cpu.in), cpuFloor),
      versus(cpuFigure("runFlow in a worker process (service + worker), back to back", cpu.pool), cpuFloor),
      {
        metric: `runs/s, worker pool of ${sandboxPool().pids.length}`,
        value: round(perSecond, 0),
        unit: "runs/s",
      },
      { metric: "RSS with 100 runs in flight (parent + workers)", value: round(during, 1), unit: "MB" },
      { metric: "RSS per run in flight (over idle)", value: round((during - before) / 100, 2), unit: "MB" },
    ];
  },
};

export default bench;
