import { afterEach, describe, expect, it } from "vitest";
import type { JobQueue } from "../../src/engines/job-queue";
import { QUEUE_BACKENDS } from "./queues";

/** The JobQueue contract, one suite for every backend. */
describe.each(QUEUE_BACKENDS)("job queue on $name", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  async function queues(n = 1): Promise<JobQueue[]> {
    const made = await backend.create(n);
    cleanups.push(async () => {
      await Promise.all(made.queues.map((q) => q.close()));
      await made.drop();
    });
    return made.queues;
  }
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("runs jobs and hands back each result", async () => {
    const [q] = await queues();
    q!.process<number, number>("double", async (n) => n * 2, { concurrency: 2 });
    expect(await Promise.all([1, 2, 3].map((n) => q!.run<number, number>("double", n)))).toEqual([2, 4, 6]);
  });

  it("never runs more than the concurrency limit at once", async () => {
    const [q] = await queues();
    let active = 0;
    let peak = 0;
    q!.process(
      "slow",
      async () => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
      },
      { concurrency: 3 },
    );
    await Promise.all(Array.from({ length: 12 }, () => q!.run("slow", null)));
    expect(peak).toBe(3);
  });

  it("joins a job already queued under the same id instead of running it twice", async () => {
    const [q] = await queues();
    let runs = 0;
    q!.process(
      "once",
      async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 50));
        return runs;
      },
      { concurrency: 4 },
    );
    const [a, b] = await Promise.all([
      q!.run("once", null, { jobId: "x" }),
      q!.run("once", null, { jobId: "x" }),
    ]);
    expect(runs).toBe(1);
    expect(a).toBe(b);
  });

  it("passes a handler's error to the caller and keeps serving", async () => {
    const [q] = await queues();
    q!.process<number, number>(
      "fragile",
      async (n) => {
        if (n < 0) throw new Error("negative");
        return n;
      },
      { concurrency: 1 },
    );
    await expect(q!.run("fragile", -1)).rejects.toThrow("negative");
    expect(await q!.run("fragile", 5)).toBe(5);
  });

  if (backend.name !== "memory")
    it("shares jobs between workers in different instances, each job run once", async () => {
      const [a, b] = await queues(2);
      const ranBy: Record<number, string[]> = {};
      for (const [name, q] of [
        ["a", a!],
        ["b", b!],
      ] as const)
        q.process<number, string>(
          "shared",
          async (n) => {
            (ranBy[n] ??= []).push(name);
            await new Promise((r) => setTimeout(r, 5));
            return name;
          },
          { concurrency: 4 },
        );
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => a!.run<number, string>("shared", i)),
      );
      expect(Object.values(ranBy).every((by) => by.length === 1)).toBe(true);
      expect(Object.keys(ranBy)).toHaveLength(60);
      expect(new Set(results)).toEqual(new Set(["a", "b"]));
    });

  if (backend.name !== "memory")
    it("hands results and errors to a caller in another instance as they happen, not at the next sweep", async () => {
      const [caller, worker] = await queues(2);
      worker!.process<number, number>(
        "remote",
        async (n) => {
          if (n < 0) throw new Error("negative");
          return n * 2;
        },
        { concurrency: 2 },
      );
      // The caller has no worker for this lane: every result comes from the other instance.
      // Missed outcomes are looked up after 2 s; each of these must arrive well before that.
      for (let i = 1; i <= 5; i++) {
        const t = performance.now();
        expect(await caller!.run<number, number>("remote", i, { jobId: `remote-${i}` })).toBe(i * 2);
        expect(performance.now() - t).toBeLessThan(1_500);
      }
      const t = performance.now();
      await expect(caller!.run("remote", -1)).rejects.toThrow("negative");
      expect(performance.now() - t).toBeLessThan(1_500);
    });
});
