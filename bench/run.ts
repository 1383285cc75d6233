import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Benchmark, printFigures, writeResults } from "./lib";

/**
 * `npm run bench` runs every bench/*.bench.ts; `npm run bench -- <name>` runs one.
 * Each prints its figures and writes them to bench/results/<name>.json.
 */
const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
const available = files.map((f) => f.replace(/\.bench\.ts$/, ""));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`no benchmark named ${unknown.join(", ")}; available: ${available.join(", ") || "(none)"}`);
  process.exit(64);
}

for (const name of wanted.length ? wanted : available) {
  const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { default: Benchmark };
  const bench = mod.default;
  console.log(`\n# ${bench.name}: ${bench.description}`);
  const figures = await bench.run();
  printFigures(bench.name, figures);
  console.log(`  → ${writeResults(bench.name, figures)}`);
}
// Pools, sockets and isolates left by a benchmark must not keep the process alive.
process.exit(0);
