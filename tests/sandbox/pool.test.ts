import { afterAll, describe, expect, it } from "vitest";
import { compileSource } from "../../src/compile";
import { bundleFlow } from "../../src/compile/bundle";
import { type RunFlowOptions, SandboxPool } from "../../src/sandbox/runner";
import { plainFlow } from "./hostile/harness";

const pool = new SandboxPool({ size: 2 });
afterAll(() => pool.close());

async function bundle(body: string): Promise<string> {
  const out = await compileSource(plainFlow(body));
  expect(out.diagnostics).toEqual([]);
  return out.bundle!;
}

const options = (b: string, call: RunFlowOptions["call"]): RunFlowOptions => ({
  bundle: b,
  params: {},
  allowedHosts: ["web1"],
  call,
  onEvent: () => {},
  limits: { memoryMb: 32, timeoutMs: 10_000 },
});

describe("the sandbox worker pool", () => {
  it("fails only the runs of a worker that dies, and replaces it", async () => {
    await pool.start();
    const [first, second] = pool.pids;
    const parked = await bundle(
      'await step("wait", { host: "web1" }, () => ssh.exec("web1", "sleep 1000"));',
    );
    let release: (v: unknown) => void = () => {};
    const gate = new Promise((r) => (release = r));
    let arrived = 0;
    const call: RunFlowOptions["call"] = async () => {
      arrived += 1;
      await gate;
      return { exitCode: 0, signal: null, stdout: "", stderr: "", truncated: false };
    };
    // Two runs: the pool puts one on each worker.
    const runs = [pool.run(options(parked, call)), pool.run(options(parked, call))];
    await expect.poll(() => arrived).toBe(2);
    process.kill(first!, "SIGKILL");
    const dead = await Promise.race(runs);
    expect(dead).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/worker process died \(signal SIGKILL\)/),
    });
    release(null);
    const results = await Promise.all(runs);
    expect(results.filter((r) => r.status === "succeeded")).toHaveLength(1);
    await expect.poll(() => pool.pids.length).toBe(2);
    expect(pool.pids).toContain(second);
    expect(pool.pids).not.toContain(first);
    const after = await pool.run(options(await bundle('await ssh.exec("web1", "uptime");'), call));
    expect(after).toEqual({ status: "succeeded", error: null });
  });

  it("sends each bundle to a worker once, then names it; a forgotten one is sent again", async () => {
    const small = new SandboxPool({ size: 1 });
    try {
      const flows = await Promise.all(
        Array.from({ length: 70 }, (_, i) =>
          bundleFlow(
            `import { defineFlow, log } from "intentflow:sdk";\nexport default defineFlow({ name: "f${i}" }, async () => {\n  log("flow ${i}");\n  if (${i} % 10 === 0) throw new Error("boom ${i}");\n});\n`,
          ),
        ),
      );
      const runOne = async (i: number, sourceMap: string | null = flows[i]!.bundle!.map) => {
        const logs: string[] = [];
        const result = await small.run({
          ...options(flows[i]!.bundle!.code, async () => null),
          sourceMap,
          onEvent: (e) => void (e.type === "log" && logs.push(e.message)),
        });
        return { result, logs };
      };
      // Every flow once (more than the worker keeps), then the first ones again.
      for (const i of [...flows.keys(), 0, 1, 10, 69, 69]) {
        const { result, logs } = await runOne(i);
        expect(logs).toEqual([`flow ${i}`]);
        if (i % 10 === 0) expect(result.error).toMatch(new RegExp(`^boom ${i} \\(flow\\.ts:4:\\d+\\)$`));
        else expect(result).toEqual({ status: "succeeded", error: null });
      }
      // The same bundle without its source map: still runs, and says no TypeScript position.
      expect((await runOne(10, null)).result.error).toBe("boom 10");
      expect((await runOne(10)).result.error).toMatch(/^boom 10 \(flow\.ts:4:\d+\)$/);
    } finally {
      await small.close();
    }
  });

  it("hands the parent events and calls in the order the flow made them", async () => {
    const flow = await bundle(
      'for (const name of ["a", "b", "c"]) await step(name, { host: "web1" }, () => ssh.exec("web1", `echo ${name}`));',
    );
    const seen: string[] = [];
    const result = await pool.run({
      ...options(flow, async (call, ctx) => {
        seen.push(`call ${ctx.stepId} ${call.name}`);
        return { exitCode: 0, signal: null, stdout: "", stderr: "", truncated: false };
      }),
      onEvent: (e) => void (e.type !== "log" && seen.push(`${e.type} ${e.stepId}`)),
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(seen).toEqual(
      ["a", "b", "c"].flatMap((s) => [`step.started ${s}`, `call ${s} ssh.exec`, `step.finished ${s}`]),
    );
  });

  it("fails a call whose result cannot be sent to the worker, and the run goes on", async () => {
    const out = await compileSource(
      'import { defineFlow, log, ssh } from "intentflow:sdk";\nexport default defineFlow({ name: "plain" }, async () => {\n  try {\n    await ssh.exec("web1", "uptime");\n  } catch (e) {\n    await log(String((e as Error).message));\n  }\n  await ssh.exec("web1", "uptime");\n});\n',
    );
    expect(out.diagnostics).toEqual([]);
    const flow = out.bundle!;
    const logs: string[] = [];
    let calls = 0;
    const result = await pool.run({
      ...options(flow, async () => {
        const value = { exitCode: 0, signal: null, stdout: "", stderr: "", truncated: false };
        return ++calls === 1 ? { ...value, extra: () => 1 } : value;
      }),
      onEvent: (e) => void (e.type === "log" && logs.push(e.message)),
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(logs).toEqual([expect.stringMatching(/could not be cloned/)]);
  });

  it("gives workers no environment beyond PATH and Node's IPC channel", async () => {
    const pid = pool.pids[0]!;
    const { readFileSync } = await import("node:fs");
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
    expect(process.env.INTENTFLOW_TEST_SECRET).toBeDefined();
    expect(env.map((e) => e.split("=")[0]).sort()).toEqual([
      "NODE_CHANNEL_FD",
      "NODE_CHANNEL_SERIALIZATION_MODE",
      "NODE_ENV",
      "PATH",
    ]);
  });
});
