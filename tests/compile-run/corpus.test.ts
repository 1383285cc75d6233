import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCompiler } from "../../src/compile";
import { Plan } from "../../src/plan/schema";
import { runFlow } from "../../src/sandbox/runner";
import { EXPECTED } from "./corpus-expected";
import { type CorpusWorld, startCorpusWorld } from "./corpus-hosts";

const PLANS = new URL("../../fixtures/plans/", import.meta.url);
const names = readdirSync(PLANS)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""))
  .sort();
const loadPlan = (name: string) =>
  Plan.parse(JSON.parse(readFileSync(new URL(`${name}.json`, PLANS), "utf8")));

const compiler = createCompiler();

/**
 * A runtime error ends with its TypeScript position (the sandbox maps it through the source
 * map): shown here as the code on that line, so the expectation says where, not which number.
 */
function atSourceLine(error: string, source: string): string {
  return error.replace(/\(flow\.ts:(\d+):(\d+)\)$/, (_, line: string, column: string) => {
    const text = source.split("\n")[Number(line) - 1] ?? "";
    return `(at: ${text.slice(Number(column) - 1).trim()})`;
  });
}
let world: CorpusWorld;
beforeAll(async () => {
  world = await startCorpusWorld();
});
afterAll(async () => {
  await world?.close();
});

describe("the plan corpus, compiled and run in the sandbox against simulated hosts", () => {
  it("holds at least 25 plans, each with its expected effect", () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(EXPECTED).sort()).toEqual(names);
  });

  it.each(names)("%s", async (name) => {
    const plan = loadPlan(name);
    const targets = world.targets(plan);
    const compiled = await compiler.compilePlan(plan, targets);
    expect(compiled.diagnostics).toEqual([]);
    const allowedHosts = [...new Set(Object.values(targets).flat())];
    let status = "";
    let error: string | null = null;
    const seen = await world.observe(async (call, onEvent) => {
      const result = await runFlow({
        bundle: compiled.bundle!,
        sourceMap: compiled.sourceMap,
        params: {},
        allowedHosts,
        call,
        onEvent,
        limits: { memoryMb: 64, timeoutMs: 20_000 },
      });
      status = result.status;
      error = result.error;
    });
    const steps: Record<string, Record<string, string>> = {};
    for (const e of seen.events)
      if (e.type === "step.finished") (steps[e.stepId] ??= {})[e.host ?? "-"] = `${e.status}/${e.attempts}`;
    const logs = seen.events.flatMap((e) => (e.type === "log" ? [e.message] : []));
    const observed = {
      status,
      error: error && atSourceLine(error, compiled.source),
      steps,
      commands: seen.commands,
      logs,
      http: seen.http,
      notifications: seen.notifications,
      sleeps: seen.sleeps,
      powershell: seen.powershell,
      tcp: seen.tcp,
    };
    const expected = EXPECTED[name] ?? {};
    const picked = Object.fromEntries(
      Object.keys(expected).map((k) => [k, observed[k as keyof typeof observed]]),
    );
    if (process.env.CORPUS_PRINT) console.log(name, JSON.stringify(observed, null, 1));
    expect(picked).toEqual(expected);
  });

  it("reports a runtime error in a reviewer-edited flow at its TypeScript line, through the source map", async () => {
    const plan = loadPlan("uptime-one-host");
    const targets = world.targets(plan);
    const lines = (await compiler.compilePlan(plan, targets)).source.split("\n");
    const at = lines.findIndex((l) => l.includes("await settleAll(")) + 1;
    lines.splice(at - 1, 0, '  if (uptimeResults.length) throw new TypeError("reviewer stop");');
    const source = lines
      .join("\n")
      .replace("const uptime = (async", "const uptimeResults = [1];\n  const uptime = (async");
    const edited = await compiler.compileSource(source);
    expect(edited.diagnostics).toEqual([]);
    const sourceLines = source.split("\n");
    const line = sourceLines.findIndex((l) => l.includes("reviewer stop")) + 1;
    const column = sourceLines[line - 1]!.indexOf("new TypeError") + 1;
    let error: string | null = null;
    await world.observe(async (call, onEvent) => {
      ({ error } = await runFlow({
        bundle: edited.bundle!,
        sourceMap: edited.sourceMap,
        params: {},
        allowedHosts: ["web1"],
        call,
        onEvent,
        limits: { memoryMb: 64, timeoutMs: 20_000 },
      }));
    });
    expect(error).toBe(`TypeError: reviewer stop (flow.ts:${line}:${column})`);
  });
});
