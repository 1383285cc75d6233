import { afterAll, describe, expect, it } from "vitest";
import { compileSource } from "../../src/compile";
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
