import { describe, expect, it } from "vitest";
import { MemoryQueue } from "../../src/engines/memory-queue";
import { RunRefused, resolveParams } from "../../src/engines/runs";

describe("in-process job queue", () => {
  it("runs jobs and hands back each result", async () => {
    const q = new MemoryQueue();
    q.process<number, number>("double", async (n) => n * 2, { concurrency: 2 });
    expect(await Promise.all([1, 2, 3].map((n) => q.run<number, number>("double", n)))).toEqual([2, 4, 6]);
  });

  it("never runs more than the concurrency limit at once", async () => {
    const q = new MemoryQueue();
    let active = 0;
    let peak = 0;
    q.process(
      "slow",
      async () => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      },
      { concurrency: 3 },
    );
    await Promise.all(Array.from({ length: 12 }, () => q.run("slow", null)));
    expect(peak).toBe(3);
  });

  it("joins a job already queued under the same id instead of running it twice", async () => {
    const q = new MemoryQueue();
    let runs = 0;
    q.process(
      "once",
      async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        return runs;
      },
      { concurrency: 4 },
    );
    const [a, b] = await Promise.all([
      q.run("once", null, { jobId: "x" }),
      q.run("once", null, { jobId: "x" }),
    ]);
    expect(runs).toBe(1);
    expect(a).toBe(b);
  });

  it("passes a handler's error to the caller and keeps serving", async () => {
    const q = new MemoryQueue();
    q.process<number, number>(
      "fragile",
      async (n) => {
        if (n < 0) throw new Error("negative");
        return n;
      },
      { concurrency: 1 },
    );
    await expect(q.run("fragile", -1)).rejects.toThrow("negative");
    expect(await q.run("fragile", 5)).toBe(5);
  });

  it("refuses jobs nobody handles, and jobs after close", async () => {
    const q = new MemoryQueue();
    await expect(q.run("nobody", 1)).rejects.toThrow(/no worker/);
    q.process("x", async () => 1, { concurrency: 1 });
    await q.close();
    await expect(q.run("x", 1)).rejects.toThrow(/closed/);
  });
});

describe("run parameters", () => {
  const declared = [
    { name: "service", type: "string" as const, description: null, default: "nginx" },
    { name: "threshold", type: "number" as const, description: null, default: null },
  ];

  it("fills defaults and keeps given values", () => {
    expect(resolveParams(declared, { threshold: 90 })).toEqual({ service: "nginx", threshold: 90 });
  });

  it.each([
    [{ service: "nginx" }, /threshold.*required/],
    [{ threshold: "90" }, /threshold.*number/],
    [{ threshold: 1, extra: 1 }, /unknown parameter "extra"/],
    [[1, 2], /must be an object/],
    ["x", /must be an object/],
  ])("refuses %j", (raw, message) => {
    expect(() => resolveParams(declared, raw)).toThrow(RunRefused);
    expect(() => resolveParams(declared, raw)).toThrow(message);
  });
});
