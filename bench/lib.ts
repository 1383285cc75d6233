import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What every benchmark reports: figures measured in the same run as their baseline, so a
 * ratio means something on whatever machine ran it.
 */
export type Figure = { metric: string; value: number; unit: string; baseline?: string; ratio?: number };

export type Benchmark = {
  /** The file name under bench/results/ and the name `npm run bench -- <name>` takes. */
  name: string;
  description: string;
  run(): Promise<Figure[]>;
};

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");

/** A figure compared with a baseline figure of the same run: ratio = value ÷ baseline value. */
export function versus(f: Omit<Figure, "baseline" | "ratio">, base: Figure): Figure {
  return { ...f, baseline: base.metric, ratio: round(f.value / base.value, 3) };
}

export function round(n: number, digits = 2): number {
  const p = 10 ** digits;
  return Math.round(n * p) / p;
}

export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Runs `fn` `n` times after `warmup` untimed runs; returns each run's milliseconds. */
export async function sample(n: number, fn: () => Promise<unknown> | unknown, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export function writeResults(name: string, figures: Figure[]): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  return file;
}

export function printFigures(name: string, figures: Figure[]): void {
  console.log(`\n## ${name}`);
  const w = Math.max(...figures.map((f) => f.metric.length), 6);
  for (const f of figures) {
    const ratio = f.ratio === undefined ? "" : `  ${f.ratio}× ${f.baseline}`;
    console.log(`  ${f.metric.padEnd(w)}  ${String(round(f.value, 3)).padStart(10)} ${f.unit}${ratio}`);
  }
}
