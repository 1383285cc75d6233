import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createCompiler } from "../../src/compile";
import { FlowTypeChecker } from "../../src/compile/typecheck";
import { fixturePlan, sameTargets } from "../sandbox/simulated-hosts";

const checker = new FlowTypeChecker();
const compiler = createCompiler();

/** A valid flow with `body` as the lines of its function, starting at line 4. */
const flow = (body: string, head = "") =>
  [
    `import { defineFlow, log, sh, ssh, step } from "intentflow:sdk";`,
    head,
    `export default defineFlow({ name: "t", params: { who: "string" } }, async ({ params }) => {`,
    body,
    `});`,
  ].join("\n");

const at = (source: string) =>
  checker.check(source).map((d) => ({ code: d.code, line: d.line, column: d.column }));

describe("type check", () => {
  it("accepts a flow that uses the SDK as declared", () => {
    const source = flow(
      '  await step("x", { host: "web1" }, () => ssh.exec("web1", sh`echo ${params.who}`));',
    );
    expect(checker.check(source)).toEqual([]);
  });

  it("reports type errors at their line and column in the TypeScript source", () => {
    const diagnostics = checker.check(flow('  const n: number = params.who;\n  await log(n, "loud");'));
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: 2322, line: 4, column: 9, severity: "error" }),
      expect.objectContaining({ code: 2345, line: 5, column: 13, severity: "error" }),
    ]);
    expect(diagnostics[0]?.message).toBe("Type 'string' is not assignable to type 'number'.");
  });

  it("reports syntax errors", () => {
    expect(at(flow("  const = 1;"))[0]).toEqual({ code: 1134, line: 4, column: 9 });
  });

  it("checks only ECMAScript built-ins: no DOM, no Node types", () => {
    expect(at(flow("  const b = Buffer.from('x'); document.title;"))).toEqual([
      { code: 2591, line: 4, column: 13 },
      { code: 2584, line: 4, column: 31 },
    ]);
  });

  it("stays warm between checks", () => {
    checker.check(flow("  await log('warm-up');"));
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      checker.check(flow(`  await log(${JSON.stringify(`run ${i}`)});`));
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const median = times[10]!;
    console.info(`warm type check: median ${median.toFixed(1)} ms`);
    expect(median).toBeLessThan(100);
  });
});

describe("source policy", () => {
  const hostile: [string, string, string, number, number][] = [
    ["import of a Node module", 'import fs from "fs";', "policy/import", 2, 16],
    ["eval", "  eval('1');", "policy/global", 4, 3],
    ["new Function", "  new Function('return 1')();", "policy/global", 4, 7],
    ["require", "  const cp = require('child_process');", "policy/global", 4, 14],
    ["process.env", "  await log(String(process.env.HOME));", "policy/global", 4, 20],
    ["dynamic import", "  await import('fs');", "policy/dynamic-import", 4, 9],
    ["globalThis", "  (globalThis as any).x = 1;", "policy/global", 4, 4],
    ["constructor chain", "  ({}).constructor.constructor('return process')();", "policy/constructor", 4, 8],
    ["Date.now", "  await log(String(Date.now()));", "policy/nondeterministic", 4, 20],
    ["new Date()", "  await log(String(new Date()));", "policy/nondeterministic", 4, 20],
    ["Math.random", "  if (Math.random() > 0.5) return;", "policy/nondeterministic", 4, 7],
    ["re-export", 'export { readFile } from "node:fs";', "policy/import", 2, 26],
    ["import.meta", "  await log(String(import.meta));", "policy/import-meta", 4, 20],
    ["Function called without new", "  Function('return 1')();", "policy/global", 4, 3],
    ["eval through an alias", "  const run = eval;\n  run('1');", "policy/global", 4, 15],
    ["namespace import of a Node module", 'import * as os from "node:os";', "policy/import", 2, 21],
    ["export * from a module", 'export * from "node:fs";', "policy/import", 2, 15],
    ["require inside a nested function", "  const load = () => require('fs');", "policy/global", 4, 22],
    ["fetch", "  await fetch('http://example.com');", "policy/global", 4, 9],
    ["setTimeout", "  setTimeout(() => {}, 1);", "policy/global", 4, 3],
    ["console", "  console.log('x');", "policy/global", 4, 3],
    ["WebAssembly", "  await WebAssembly.compile(new Uint8Array());", "policy/global", 4, 9],
    ["globalThis by element access", '  (globalThis as any)["ev" + "al"]("1");', "policy/global", 4, 4],
  ];

  it.each(hostile)("rejects %s at the offending line", (_, line, code, expectedLine, column) => {
    const source = line.startsWith("  ") ? flow(line) : flow("  await log('x');", line);
    const diagnostics = checker.check(source);
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ code, line: expectedLine, column, severity: "error" }),
    );
  });

  it("rejects a hostile line a reviewer put into a generated flow, at that line", async () => {
    const plan = fixturePlan("nginx-check-restart");
    const generated = (await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]))).source;
    const lines = generated.split("\n");
    const at = lines.findIndex((l) => l.includes("const restartNginx = (async () => {")) + 1;
    lines.splice(at, 0, "    const cp = require('child_process');", "    await import('node:fs');");
    const out = await compiler.compileSource(lines.join("\n"));
    expect(out.bundle).toBeNull();
    expect(out.diagnostics.filter((d) => String(d.code).startsWith("policy/"))).toEqual([
      expect.objectContaining({ code: "policy/global", line: at + 1, column: 16 }),
      expect.objectContaining({ code: "policy/dynamic-import", line: at + 2, column: 11 }),
    ]);
    // The compiler's own complaint (no types for "node:fs") is on the same line, nowhere else.
    expect(new Set(out.diagnostics.map((d) => d.line))).toEqual(new Set([at + 1, at + 2]));
  });

  it("does not repeat the compiler's misleading hint where the policy explains", () => {
    const diagnostics = checker.check(flow("  await log(String(process.env.HOME));"));
    expect(diagnostics.map((d) => d.code)).toEqual(["policy/global"]);
    expect(diagnostics[0]?.message).toBe(
      '"process" is not allowed in flows: flows have no access to the host process',
    );
  });

  it("allows local bindings that share a forbidden name, and types that name Function", () => {
    const source = flow("  const process = (f: Function) => typeof f;\n  await log(process(() => 1));");
    expect(checker.check(source)).toEqual([]);
  });

  it("allows dates built from explicit values", () => {
    expect(checker.check(flow("  await log(new Date(0).toISOString() + Date.UTC(2020, 1));"))).toEqual([]);
  });

  it("produces no bundle when the source is rejected", async () => {
    const out = await compiler.compileSource(flow("  eval('1');"));
    expect(out.bundle).toBeNull();
    expect(out.hash).toBeNull();
    expect(out.diagnostics[0]).toMatchObject({ code: "policy/global", line: 4 });
  });
});

describe("warm checker", () => {
  // Every answer of the warm checker must be the one a fresh program gives.
  const fresh = new FlowTypeChecker(undefined, { warm: false });
  const FIXTURES = readdirSync(new URL("../../fixtures/plans/", import.meta.url))
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.replace(/\.json$/, ""));

  it("vouches for clean generated flows, as a fresh program does", async () => {
    const warm = new FlowTypeChecker();
    for (const name of FIXTURES) {
      const plan = fixturePlan(name);
      // A plan that passes one host's output to a hostless step needs a single host.
      let { source } = await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]));
      if (!source) ({ source } = await compiler.compilePlan(plan, sameTargets(plan, ["web1"])));
      expect(source, name).toContain("defineFlow");
      expect(fresh.check(source), name).toEqual([]);
      expect(warm.check(source), name).toEqual([]);
    }
    // All but the first, which had no warm checker yet.
    expect(warm.warmAnswers).toBe(FIXTURES.length - 1);
  });

  const cases: [string, string][] = [
    ["a type error", flow("  const n: number = params.who;")],
    ["a misspelt SDK name", flow("  await lgo('x');")],
    ["an unused @ts-expect-error", flow("  // @ts-expect-error\n  await log('fine');")],
    ["a used @ts-expect-error", flow("  // @ts-expect-error\n  const n: number = params.who;")],
    ["@ts-nocheck over a type error", `// @ts-nocheck\n${flow("  const n: number = params.who;")}`],
    ["@ts-ignore", flow("  // @ts-ignore\n  await log(1);")],
    ["a script, not a module", 'const x: number = 1;\nconst y: string = "a";\n'],
    [
      "a reference to a missing file",
      `/// <reference path="./nowhere.d.ts" />\n${flow("  await log('x');")}`,
    ],
    ["a reference to the DOM lib", `/// <reference lib="dom" />\n${flow("  await log(document.title);")}`],
    [
      "a global augmentation clashing with the lib",
      flow("  await log('x');", "declare global { const Array: number; }"),
    ],
    [
      "an augmentation of the SDK",
      flow("  await extra();", 'declare module "intentflow:sdk" { export function extra(): Promise<void>; }'),
    ],
    ["an import of another module", flow("  await log(x);", 'import { x } from "./other";')],
    ["a policy violation", flow("  eval('1');")],
  ];

  it.each(cases)("answers like a fresh program for %s", (_, source) => {
    const warm = new FlowTypeChecker();
    const clean = flow("  await log('clean');");
    // A flow using the DOM: only a checker that was told of the DOM lib would let it pass.
    const dom = flow("  await log(document.title);");
    // Clean flows around the case: what the warm checker learnt from one must not leak.
    expect(warm.check(clean)).toEqual([]);
    expect(warm.check(clean)).toEqual([]);
    expect(warm.check(source)).toEqual(fresh.check(source));
    expect(warm.check(dom)).toEqual(fresh.check(dom));
    expect(warm.check(clean)).toEqual([]);
    expect(warm.check(source)).toEqual(fresh.check(source));
    expect(warm.check(dom)).toEqual(fresh.check(dom));
    expect(fresh.check(dom)).not.toEqual([]);
  });

  it("keeps flows apart: the same names in two flows are no duplicates", () => {
    const warm = new FlowTypeChecker();
    const a = flow("  const target = 'web1';\n  await log(target);", "const shared = 1;\nexport { shared };");
    expect(warm.check(a)).toEqual([]);
    expect(warm.check(a)).toEqual([]);
    expect(warm.check(a)).toEqual([]);
    expect(warm.warmAnswers).toBe(2);
  });

  it("stays right across replaced warm checkers", () => {
    const warm = new FlowTypeChecker(undefined, { warmChecksPerProgram: 3 });
    for (let i = 0; i < 10; i++) {
      const source =
        i % 4 === 3 ? flow(`  const n${i}: number = params.who;`) : flow(`  await log("run ${i}");`);
      expect(warm.check(source)).toEqual(fresh.check(source));
    }
    // Fresh programs: the first check (no warm checker yet) and the erroneous 3 and 7 (7 being
    // also the fourth check after the program of 3, past its three warm checks).
    expect(warm.warmAnswers).toBe(7);
  });
});
