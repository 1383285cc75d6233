import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store";
import type { Store } from "../../src/store/types";
import { BACKENDS, type TestDatabase } from "./backends";
import { newFlow, runRecord } from "./fixtures";

/** Run claims, cancel requests, attempts and approval history, on every backend. */
describe.each(BACKENDS)("run claims on $name", (backend) => {
  let database: TestDatabase;
  let store: Store;
  let other: Store;

  beforeEach(async () => {
    database = await backend.create();
    store = await openStore(database.config);
    await store.migrate();
    other = await openStore(database.config);
  });
  afterEach(async () => {
    await store.close();
    await other.close();
    await database.drop();
  });

  async function queuedRun() {
    const saved = newFlow();
    await store.saveVersion(saved);
    const run = runRecord(saved.version);
    await store.insertRun(run);
    return { ...saved, run };
  }

  it("gives a run to exactly one of many racing claimers", async () => {
    const { run } = await queuedRun();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).claimRun(run.id, `p${i}`, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.claimableRuns()).toEqual([]);
  });

  it("lets a run whose owner stopped renewing be taken over, and tells the old owner", async () => {
    const { run } = await queuedRun();
    expect(await store.claimRun(run.id, "a", 50)).toBe(true);
    expect(await other.claimRun(run.id, "b", 10_000)).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect((await store.claimableRuns()).map((r) => r.id)).toEqual([run.id]);
    expect(await other.claimRun(run.id, "b", 10_000)).toBe(true);
    expect(await store.heartbeatRun(run.id, "a", 10_000)).toEqual({ held: false, cancelRequested: false });
    expect(await other.heartbeatRun(run.id, "b", 10_000)).toEqual({ held: true, cancelRequested: false });
    await other.releaseRun(run.id, "b");
    expect(await store.claimRun(run.id, "c", 10_000)).toBe(true);
  });

  it("cancels a queued run nobody holds at once, and flags a held one for its owner", async () => {
    const a = await queuedRun();
    expect(await store.requestCancel(a.run.id)).toBe("cancelled");
    expect((await store.getRun(a.run.id))?.status).toBe("cancelled");
    expect(await store.claimRun(a.run.id, "x", 1_000)).toBe(false);
    expect(await store.requestCancel(a.run.id)).toBe("finished");
    expect(await store.requestCancel("00000000-0000-4000-8000-000000000000")).toBe("not_found");

    const b = await queuedRun();
    expect(await store.claimRun(b.run.id, "owner", 10_000)).toBe(true);
    expect(await other.requestCancel(b.run.id)).toBe("requested");
    expect(await store.cancelRequested(b.run.id)).toBe(true);
    expect(await store.heartbeatRun(b.run.id, "owner", 10_000)).toEqual({
      held: true,
      cancelRequested: true,
    });
  });

  it("records attempts, batched step results and approval history", async () => {
    const { run, version } = await queuedRun();
    const base = { runId: run.id, stepId: "check", host: "web1", exitCode: null, finishedAt: null };
    await store.putAttempt({
      ...base,
      attempt: 1,
      status: "running",
      error: null,
      startedAt: "2025-01-01T00:00:00Z",
    });
    await store.putAttempt({
      ...base,
      attempt: 1,
      status: "failed",
      error: "exit code 1",
      startedAt: "2025-01-01T00:00:00Z",
    });
    await store.putAttempt({
      ...base,
      attempt: 2,
      status: "succeeded",
      error: null,
      startedAt: "2025-01-01T00:00:01Z",
    });
    expect((await store.attempts(run.id)).map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "succeeded"],
    ]);
    const row = {
      runId: run.id,
      host: "",
      attempts: 1,
      exitCode: null,
      stdout: "",
      stderr: "",
      error: null,
      startedAt: "2025-01-01T00:00:00Z",
      finishedAt: null,
    };
    await store.putStepResults([
      { ...row, stepId: "a", status: "running" },
      { ...row, stepId: "b", status: "succeeded" },
      { ...row, stepId: "a", status: "succeeded" },
    ]);
    expect((await store.stepResults(run.id)).map((r) => [r.stepId, r.status])).toEqual([
      ["a", "succeeded"],
      ["b", "succeeded"],
    ]);
    await store.approveVersion(version.flowId, version.version, {
      by: "alice",
      at: "2025-01-01T00:00:00Z",
      hash: version.hash,
      comment: "ok",
    });
    expect(await store.approvals(version.flowId, version.version)).toMatchObject([
      { decision: "approved", actor: "alice", hash: version.hash, comment: "ok" },
    ]);
  });
});
