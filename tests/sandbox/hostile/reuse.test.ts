/**
 * An isolate serves several runs, one after another, each in a fresh context (see the top of
 * src/sandbox/isolate-run.ts). These tests plant everything a flow can plant in a run that
 * succeeds, then run a second flow in the same isolate and check that it sees exactly what a
 * flow in a brand-new isolate sees. They also check that any run that does not succeed, or
 * leaves a full heap, gets its isolate disposed rather than reused.
 */
import { afterAll, describe, expect, it } from "vitest";
import { bundleFlow } from "../../../src/compile/bundle";
import {
  disposePrepared,
  type IsolateUse,
  MAX_RUNS_PER_ISOLATE,
  runInIsolate,
} from "../../../src/sandbox/isolate-run";
import type { FlowEvent, RunFlowOptions, RunFlowResult } from "../../../src/sandbox/runner";
import { simulatedHosts } from "../simulated-hosts";

afterAll(() => disposePrepared());

const SECRET = "planted-by-the-first-run";

const HEADER = `
import { defineFlow, log, ssh, step } from "intentflow:sdk";
import * as sdk from "intentflow:sdk";
void [log, ssh, step, sdk];
const S = ${JSON.stringify(SECRET)};
`;
const flow = (name: string, body: string) =>
  `${HEADER}\nexport default defineFlow({ name: "${name}" }, async () => {\n${body}\n});\n`;

/** Plants whatever a flow can reach, in every place it can reach, and still succeeds. */
const PLANT = `
  const g: any = globalThis;
  // Work left behind: a call answered after the run has ended, whose continuation would plant
  // again and then spin; and a promise that never settles.
  void ssh.exec("web1", "late").then(() => { g.late = S; for (;;) {} });
  void new Promise(() => { g.never = S; });
  await step("plant", { host: "web1" }, () => log("planted"));
  // Then everything else, short of breaking the runtime's own last steps (the run must succeed).
  g.planted = S;
  g[Symbol.for("intentflow.planted")] = S;
  try { (Symbol.for("intentflow.planted") as any).planted = S; } catch {}
  try { Object.defineProperty(Symbol.prototype, "planted", { value: S }); } catch {}
  (Object.prototype as any).planted = S;
  (Array.prototype as any).planted = S;
  (Function.prototype as any).planted = S;
  (String.prototype as any).planted = S;
  Object.defineProperty(Object.prototype, "getterPlanted", { get() { return S; }, configurable: false });
  JSON.parse = () => S;
  const stringify = JSON.stringify;
  JSON.stringify = (...a: any[]) => (stringify as any)(...a);
  Math.max = () => 42;
  (Error as any).prepareStackTrace = () => S;
  (Error as any).stackTraceLimit = 0;
  (Error.prototype as any).planted = S;
  Object.defineProperty(Promise, Symbol.species, { get() { return class extends Promise<unknown> { planted = S; }; } });
  const then = Promise.prototype.then;
  Promise.prototype.then = function (this: any, a: any, b: any) {
    try { if (typeof a === "function") (a as any).constructor.prototype.planted = S; } catch {}
    return then.call(this, a, b);
  } as any;
  /s3cret-(\\w+)/.exec("s3cret-" + S.replace(/-/g, "_"));
  try { (sdk as any).ssh.exec = () => S; } catch {}
  try { g.__intentflowSdk.planted = S; } catch {}
  delete g.Reflect;
  g.Map = function () { return S; };
  for (const name of ["Object", "Array", "Promise", "Symbol", "RegExp", "Function"])
    try { Object.freeze(g[name].prototype); } catch {}
`;

/** Reports, through logs, what it can see of everything PLANT touches. */
const CHECK = `
  const g: any = globalThis;
  const seen: [string, unknown][] = [];
  const probe = async (name: string, f: () => unknown) => {
    try { seen[seen.length] = [name, await f()]; } catch (e) { seen[seen.length] = [name, "threw " + String(e)]; }
  };
  const own = (o: object) => Object.getOwnPropertyNames(o).sort().join(",");
  await probe("globals", () => own(g));
  await probe("globalSymbols", () => Object.getOwnPropertySymbols(g).map(String).join(","));
  await probe("planted", () => [g.planted, g.late, g.never, g[Symbol.for("intentflow.planted")]].map(String).join(","));
  await probe("symbolFor", () => [Symbol.keyFor(Symbol.for("intentflow.planted")), (Symbol.for("intentflow.planted") as any).planted].map(String).join(","));
  await probe("symbolProto", () => own(Symbol.prototype));
  await probe("protos", () => ["Object", "Array", "Function", "String", "Error", "Promise", "Symbol", "RegExp"]
    .map((n) => n + ":" + own(g[n].prototype) + ":" + Object.isFrozen(g[n].prototype)).join(";"));
  await probe("inherited", () => [({} as any).planted, ([] as any).planted, (() => 0 as any).planted, ("" as any).planted,
    ({} as any).getterPlanted, (new Error("e") as any).planted].map(String).join(","));
  await probe("json", () => [JSON.parse("[1]").length, JSON.stringify({ a: 1 })].map(String).join(","));
  await probe("builtins", () => [Math.max(1, 2), typeof Reflect, typeof Map, new Map([[1, 2]]).size].map(String).join(","));
  await probe("errors", () => [typeof (Error as any).prepareStackTrace, (Error as any).stackTraceLimit,
    String(new Error("probe").stack).split("\\n")[0]].map(String).join(","));
  await probe("species", () => String((Promise as any)[Symbol.species] === Promise));
  await probe("native", () => [Promise.prototype.then, JSON.stringify, JSON.parse, Math.max]
    .map((f) => String(f).includes("[native code]")).join(","));
  await probe("thenPlanted", async () => String(await new Promise((r) => r(1)).then(function f() { return (f as any).planted; })));
  await probe("regexp", () => [(RegExp as any).$1, (RegExp as any).lastMatch, (RegExp as any).input].map(String).join(","));
  await probe("sdk", () => [typeof (sdk as any).ssh.exec, String((sdk as any).ssh.exec).includes(S),
    String(g.__intentflowSdk?.planted)].join(","));
  for (const [k, v] of seen) log(k + "=" + String(v));
`;

async function bundle(source: string): Promise<string> {
  const out = await bundleFlow(source);
  expect(out.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return out.bundle!.code;
}

type Run = { result: RunFlowResult; use: IsolateUse; logs: string[] };

async function run(
  bundleCode: string,
  memoryMb: number,
  limits: Partial<RunFlowOptions["limits"]> = {},
): Promise<Run> {
  const hosts = simulatedHosts(() => ({ exitCode: 0, stdout: "ok\n" }));
  const logs: string[] = [];
  let use: IsolateUse | null = null;
  const result = await runInIsolate(
    {
      bundle: bundleCode,
      params: {},
      allowedHosts: ["web1"],
      // The call the plant flow leaves behind is answered well after its run has ended.
      call: async (call, ctx) => {
        if (call.name === "ssh.exec" && call.args.command === "late")
          await new Promise((r) => setTimeout(r, 30));
        return hosts.call(call, ctx);
      },
      onEvent: (e: FlowEvent) => void (e.type === "log" && logs.push(e.message)),
      limits: { memoryMb, timeoutMs: 5_000, ...limits },
    },
    (u) => (use = u),
  );
  return { result, use: use!, logs };
}

/** Runs `bundleCode` until one lands in isolate `id` again (runs alternate between prepared isolates). */
async function runIn(id: number, bundleCode: string, memoryMb: number): Promise<Run | null> {
  for (let i = 0; i < 8; i++) {
    const r = await run(bundleCode, memoryMb);
    if (r.use.isolate === id) return r;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return null;
}

describe("an isolate serving several runs", () => {
  it("shows the next run nothing the previous one planted: it sees what a brand-new isolate shows", async () => {
    const [plant, check, both] = await Promise.all([
      bundle(flow("plant", PLANT)),
      bundle(flow("check", CHECK)),
      bundle(flow("both", `{${PLANT}}\n{${CHECK}}`)),
    ]);
    // A memory limit no other test uses: the first run with it always gets a new isolate.
    const fresh = await run(check, 23);
    expect(fresh.result).toEqual({ status: "succeeded", error: null });
    expect(fresh.use.run).toBe(1);
    expect(fresh.logs.join("\n")).not.toContain(SECRET);

    // The check does see a planting in its own realm: what it reports below means something.
    const same = await run(both, 23);
    expect(same.result).toEqual({ status: "succeeded", error: null });
    const probes = fresh.logs.map((l) => l.split("=")[0]);
    const changed = same.logs.filter((l) => l.includes("=") && !fresh.logs.includes(l));
    expect(changed.map((l) => l.split("=")[0])).toEqual(probes);

    const planted = await run(plant, 24);
    expect(planted.result).toEqual({ status: "succeeded", error: null });
    // Let the late call be answered (and refused: the run's bridge is closed).
    await new Promise((r) => setTimeout(r, 60));
    const after = await runIn(planted.use.isolate, check, 24);
    expect(after, "no later run landed in the planted isolate").not.toBeNull();
    expect(after!.use.run).toBeGreaterThan(1);
    expect(after!.result).toEqual({ status: "succeeded", error: null });
    expect(after!.logs).toEqual(fresh.logs);
    expect(after!.logs.join("\n")).not.toContain(SECRET);
    expect(after!.logs.join("\n")).not.toMatch(/planted_by/);
  });

  it("disposes the isolate of a run that failed, hit a limit or left a full heap", async () => {
    const ok = await bundle(
      'import { defineFlow } from "intentflow:sdk";\nexport default defineFlow({ name: "ok" }, async () => {});\n',
    );
    const ends: [string, Partial<RunFlowOptions["limits"]>, string][] = [
      ['fail("no")', {}, "failed"],
      ["throw new Error('no')", {}, "failed"],
      ["for (;;) {}", { cpuMs: 50 }, "timed_out"],
      ["await ssh.exec('web1', 'x'); await ssh.exec('web1', 'y');", { maxCalls: 1 }, "failed"],
      // Succeeds, but 12 MB still reachable when it ends: more than a quarter of 32 MB.
      [
        "(globalThis as any).kept = Array.from({ length: 12 }, () => new Uint8Array(1 << 20).fill(1));",
        {},
        "succeeded",
      ],
    ];
    for (const [body, limits, status] of ends) {
      const source = `import { defineFlow, fail, ssh } from "intentflow:sdk";\nvoid fail; void ssh;\nexport default defineFlow({ name: "end" }, async () => { ${body} });\n`;
      const ended = await run(await bundle(source), 32, limits);
      expect(ended.result.status, body).toBe(status);
      for (let i = 0; i < 4; i++) {
        const next = await run(ok, 32);
        expect(next.result.status).toBe("succeeded");
        expect(next.use.isolate, `${body}: its isolate was reused`).not.toBe(ended.use.isolate);
      }
    }
  });

  it("never hands on an isolate still running a finished run's code", async () => {
    // Returns at once, leaving a call whose reply (answered at once) may reach the isolate in
    // the moment between the run's end and its bridge closing; the reply's continuation spins.
    const spinner = await bundle(
      flow("spin-after", `void ssh.exec("web1", "x").then(() => { for (;;) {} });`),
    );
    const ok = await bundle(flow("ok", ""));
    for (let i = 0; i < 10; i++) {
      const left = await run(spinner, 48);
      expect(left.result).toEqual({ status: "succeeded", error: null });
      for (let j = 0; j < 3; j++) {
        const t = performance.now();
        const next = await run(ok, 48);
        expect(next.result).toEqual({ status: "succeeded", error: null });
        expect(performance.now() - t).toBeLessThan(1_000);
      }
    }
  });

  it("reuses an isolate at most MAX_RUNS_PER_ISOLATE times", async () => {
    const ok = await bundle(
      'import { defineFlow } from "intentflow:sdk";\nexport default defineFlow({ name: "ok" }, async () => {});\n',
    );
    const runs = new Map<number, number>();
    for (let i = 0; i < MAX_RUNS_PER_ISOLATE * 3; i++) {
      const r = await run(ok, 40);
      expect(r.result.status).toBe("succeeded");
      runs.set(r.use.isolate, Math.max(runs.get(r.use.isolate) ?? 0, r.use.run));
    }
    expect(Math.max(...runs.values())).toBeLessThanOrEqual(MAX_RUNS_PER_ISOLATE);
    // Reuse did happen: far fewer isolates than runs.
    expect(runs.size).toBeLessThan((MAX_RUNS_PER_ISOLATE * 3) / 4);
  });
});
