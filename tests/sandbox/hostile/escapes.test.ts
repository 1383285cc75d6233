import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { runFlow } from "../../../src/sandbox/runner";
import { simulatedHosts } from "../simulated-hosts";
import { cleanMarker, expectHostIntact, HOSTILE_LIMITS, plainFlow, runHostile } from "./harness";
import { compileSource } from "../../../src/compile";

type Case = {
  name: string;
  body: string;
  /** Statuses the run may end with; never "succeeded". */
  ends?: string[];
  limit?: string;
  error?: RegExp;
  /** false for flows that may abort V8 itself: those run in worker processes only. */
  inProcess?: boolean;
};

const CASES: Case[] = [
  // ── constructor chains and code from strings ──
  {
    name: "this.constructor.constructor",
    body: `const F = (({}) as any).constructor.constructor; pwn(F("return this")().process);`,
  },
  { name: "Function('return process')", body: `pwn(Function("return process")());` },
  { name: "eval('process')", body: `pwn((0, eval)("process"));` },
  {
    name: "constructor chain from an SDK function",
    body: `pwn((ssh.exec as any).constructor("return process")());`,
  },
  {
    name: "constructor chain from an async function's result",
    body: `const r: any = await ssh.exec("web1", "uptime"); pwn(r.constructor.constructor("return process")());`,
  },
  // ── prototype pollution aimed at bridged values ──
  {
    name: "prototype pollution of a capability result",
    body: `const r: any = await ssh.exec("web1", "uptime");
      r.__proto__.polluted = "yes"; (Object.prototype as any).polluted = "yes";
      (Array.prototype as any).polluted = "yes"; JSON.parse = () => ({ ok: true, value: null });
      await ssh.exec("web1", "uptime"); pwn(r.__proto__.constructor.constructor("return process")());`,
  },
  {
    name: "a poisoned toJSON on arguments",
    body: `const host: any = { toJSON() { return "web1"; }, toString() { return "web1"; } };
      (Object.prototype as any).toJSON = function () { return { kind: "call", name: "ssh.exec", args: { host: "db9", command: "id" } }; };
      await ssh.exec(host, "id");`,
    // The flow shares its realm with the SDK runtime, so it can break the runtime; never the host.
    ends: ["failed", "timed_out"],
  },
  // ── stack and error tricks ──
  {
    name: "Error.prepareStackTrace reaching frames' this",
    body: `(Error as any).prepareStackTrace = (_e: unknown, frames: any[]) => frames.map((f) => f.getThis?.());
      const stack: any = new Error("x").stack;
      for (const t of stack ?? []) pwn(t?.constructor?.constructor?.("return process")());`,
  },
  {
    name: "an error whose message getter never returns",
    body: `const e = new Error("x"); Object.defineProperty(e, "message", { get() { for (;;) {} } }); throw e;`,
    ends: ["timed_out", "failed"],
  },
  {
    name: "an error whose name is an object that escapes when printed (vm2 CVE-2023-30547 style)",
    body: `const e: any = new Error("x");
      e.name = { toString() { pwn(Function("return process")()); return "X"; } };
      throw e;`,
  },
  {
    name: "a thrown non-error with an inspect hook (vm2 CVE-2023-37903 style)",
    body: `throw { [Symbol.for("nodejs.util.inspect.custom")]: (_d: unknown, _o: unknown, inspect: any) =>
      pwn(inspect.constructor("return process")()), stack: 1, message: {} };`,
  },
  {
    name: "Error replaced globally before a host error (vm2 CVE-2022-36067 style)",
    body: `(globalThis as any).Error = class { static prepareStackTrace(_e: unknown, s: any[]) { pwn(s[0].getThis()); } };
      await ssh.exec("", "id");`,
  },
  {
    name: "prepareStackTrace on async errors (vm2 CVE-2023-29017 style)",
    body: `(Error as any).prepareStackTrace = (e: any, sst: any[]) => pwn(sst[0]?.getThis?.()?.constructor?.constructor?.("return process")());
      async function boom() { (null as any).x; } await boom();`,
  },
  // ── Proxy and Symbol tricks ──
  {
    name: "a Proxy as a command",
    body: `const p = new Proxy({}, { get(_t, k) { if (k === "text") pwn(Function("return process")()); return "id"; } });
      await ssh.exec("web1", p as any);`,
  },
  {
    name: "a Proxy as http headers and Symbol.toPrimitive",
    body: `const h = new Proxy({}, { ownKeys() { pwn(Function("return process")()); return []; } });
      await http.request({ method: "GET", url: { [Symbol.toPrimitive]: () => "http://x/" } as any, headers: h as any });`,
  },
  {
    name: "Promise species (vm2 CVE-2023-32314 / CVE-2023-37466 style)",
    body: `class P extends Promise<unknown> { static get [Symbol.species]() { return function (exec: any) {
        exec(() => {}, (e: any) => pwn(e?.constructor?.constructor?.("return process")())); }; } }
      (globalThis as any).Promise = P;
      const orig = Promise.prototype.then;
      Promise.prototype.then = function (this: any, a: any, b: any) {
        return orig.call(this, a, (e: any) => { pwn(e?.constructor?.constructor?.("return process")()); return b?.(e); });
      } as any;
      await ssh.exec("db9", "id");`,
    ends: ["failed", "timed_out"],
  },
  // ── loops ──
  { name: "a synchronous infinite loop", body: `for (;;) {}`, ends: ["timed_out"] },
  {
    name: "an infinite loop after an await",
    body: `await ssh.exec("web1", "uptime"); for (;;) {}`,
    ends: ["timed_out"],
  },
  {
    name: "an endless microtask chain",
    body: `const spin = async (): Promise<void> => { for (;;) await null; }; await spin();`,
    ends: ["timed_out", "memory_limit"],
  },
  // ── memory ──
  {
    name: "a string bomb",
    body: `let s = "x"; for (;;) s += s + String(s.length);`,
    ends: ["memory_limit", "failed", "timed_out"],
    inProcess: false,
  },
  {
    name: "an array bomb",
    body: `const a: number[][] = []; for (;;) a.push(new Array(1e6).fill(1));`,
    ends: ["memory_limit", "timed_out"],
    inProcess: false,
  },
  {
    name: "a promise bomb",
    body: `const ps: Promise<unknown>[] = []; for (;;) ps.push(new Promise(() => {}));`,
    ends: ["memory_limit", "timed_out"],
    inProcess: false,
  },
  {
    name: "deep recursion",
    body: `const f = (n: number): number => f(n + 1) + 1; f(0);`,
    error: /call stack/,
  },
  // ── what the isolate does not have ──
  {
    name: "Atomics.wait on a SharedArrayBuffer",
    body: `(globalThis as any).Atomics.wait(new Int32Array(new (globalThis as any).SharedArrayBuffer(4)), 0, 0);`,
  },
  {
    name: "WebAssembly",
    body: `await (globalThis as any).WebAssembly.instantiate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));`,
  },
  {
    name: "dynamic import()",
    body: `const m = "node:" + "fs"; pwn({ getBuiltinModule: () => null, ...(await import(m)) });`,
  },
  {
    name: "reading the environment and files",
    body: `const g: any = globalThis; await log(String(g.process?.env?.INTENTFLOW_TEST_SECRET));
      pwn(g.process ?? g.require?.("process")); g.require("fs").readFileSync("/etc/passwd");`,
  },
  {
    name: "the bridge's own globals",
    body: `const g: any = globalThis;
      for (const k of Object.getOwnPropertyNames(g)) if (k.startsWith("__intentflow")) await log(k);
      g.__intentflowSend?.(JSON.stringify({ kind: "call", id: 1, scope: {}, name: "ssh.exec", args: { host: "db9" } }));
      g.__intentflowDeliver(1, "{}");`,
  },
  // ── the bridge under pressure ──
  {
    name: "flooding the bridge with calls",
    body: `const all: Promise<unknown>[] = []; for (let i = 0; i < 100_000; i++) all.push(ssh.exec("web1", "id").catch(() => 0));
      await Promise.all(all);`,
    limit: "call_limit",
  },
  {
    name: "flooding the bridge with logs",
    body: `for (let i = 0; i < 1_000_000; i++) void log("spam spam spam spam spam spam spam spam");`,
    ends: ["failed", "timed_out"],
  },
  {
    name: "a huge value sent out",
    body: `await log("x".repeat(8 * 1024 * 1024));`,
    limit: "output_limit",
  },
  // ── policy ──
  {
    name: "a host outside the approved set",
    body: `await ssh.exec("db9", "id");`,
    error: /host "db9" is not among the hosts this run may reach/,
  },
];

beforeEach(cleanMarker);
afterAll(cleanMarker);

describe("hostile flows are contained and the host stays intact", () => {
  it.each(CASES)("$name", async (c) => {
    const outcomes = await runHostile(c.body, { inProcess: c.inProcess });
    for (const o of outcomes) {
      expect(c.ends ?? ["failed"], `${o.path}: ${JSON.stringify(o.result)}`).toContain(o.result.status);
      if (c.limit) expect(o.result.limit, o.path).toBe(c.limit);
      if (c.error) expect(o.result.error, o.path).toMatch(c.error);
    }
    expectHostIntact(outcomes);
  });

  it("refuses a command the capability's policy denies, without retrying it", async () => {
    const out = await compileSource(
      plainFlow(
        `await step("wipe", { host: "web1", retry: { attempts: 3, backoffMs: 1 } }, () => ssh.exec("web1", "rm -rf /"));`,
      ),
    );
    const hosts = simulatedHosts(() =>
      Object.assign(new Error("the command policy denies rm -rf /"), { code: "denied" }),
    );
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: HOSTILE_LIMITS,
    });
    expect(result).toMatchObject({ status: "failed", error: expect.stringMatching(/denies rm -rf/) });
    expect(hosts.execs()).toEqual(["web1: rm -rf /"]);
  });

  it("keeps serving runs after all of the above", async () => {
    const out = await compileSource(
      plainFlow(`const r = await ssh.exec("web1", "uptime"); if (r.exitCode !== 0) throw new Error("down");`),
    );
    expect(out.diagnostics).toEqual([]);
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: HOSTILE_LIMITS,
    });
    expect(result).toEqual({ status: "succeeded", error: null });
  });
});
