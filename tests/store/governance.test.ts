import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store";
import type { ScheduleRecord, Store } from "../../src/store/types";
import { BACKENDS, type TestDatabase } from "./backends";
import { newFlow, runRecord } from "./fixtures";

describe.each(BACKENDS)("governance records on $name", (backend) => {
  let database: TestDatabase;
  let store: Store;

  beforeEach(async () => {
    database = await backend.create();
    store = await openStore(database.config);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  const schedule = (flowId: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
    id: randomUUID(),
    flowId,
    version: 1,
    kind: "cron",
    spec: "*/5 * * * *",
    params: { threshold: 90 },
    enabled: true,
    nextRunAt: "2026-11-23T10:00:00.000Z",
    lastRunId: null,
    lastRunAt: null,
    createdBy: "rita",
    createdAt: "2026-11-23T09:00:00.000Z",
    ...overrides,
  });

  it("rejects a pending version once, with the reason, and records the decision", async () => {
    const saved = newFlow();
    await store.saveVersion(saved);
    const at = new Date().toISOString();
    const v = await store.rejectVersion(saved.flow.id, 1, { by: "rita", at, reason: "restarts too much" });
    expect(v).toMatchObject({ status: "rejected", comment: "restarts too much", approvedHash: null });
    expect(await store.rejectVersion(saved.flow.id, 1, { by: "rita", at, reason: "again" })).toBeUndefined();
    expect(
      await store.approveVersion(saved.flow.id, 1, { by: "x", at, hash: v!.hash, comment: null }),
    ).toBeUndefined();
    expect((await store.approvals(saved.flow.id, 1)).map((a) => [a.decision, a.actor])).toEqual([
      ["rejected", "rita"],
    ]);
  });

  it("keeps an audit trail, newest first, filtered by subject, action and actor", async () => {
    await store.appendAudit({
      at: "2026-11-23T10:00:00.000Z",
      actor: "carol",
      action: "version.created",
      subject: "flow:a@1",
      detail: { engine: "flow" },
    });
    await store.appendAudit({
      at: "2026-11-23T10:01:00.000Z",
      actor: "rita",
      action: "version.approved",
      subject: "flow:a@1",
      detail: { hash: "h" },
    });
    await store.appendAudit({
      at: "2026-11-23T10:02:00.000Z",
      actor: "carol",
      action: "run.started",
      subject: "run:r1",
      detail: {},
    });
    expect((await store.listAudit()).map((a) => a.action)).toEqual([
      "run.started",
      "version.approved",
      "version.created",
    ]);
    expect((await store.listAudit({ subject: "flow:a@1" })).map((a) => a.actor)).toEqual(["rita", "carol"]);
    expect((await store.listAudit({ action: "version.approved" }))[0]!.detail).toEqual({ hash: "h" });
    expect(await store.listAudit({ actor: "nobody" })).toEqual([]);
    expect(await store.listAudit({ limit: 1 })).toHaveLength(1);
  });

  it("stores schedules and hands a due one to exactly one of racing claimers", async () => {
    const saved = newFlow();
    await store.saveVersion(saved);
    const s = schedule(saved.flow.id);
    await store.createSchedule(s);
    expect(await store.getSchedule(s.id)).toEqual(s);
    expect(await store.dueSchedules("2026-11-23T09:59:59.000Z")).toEqual([]);
    expect((await store.dueSchedules("2026-11-23T10:00:00.000Z")).map((d) => d.id)).toEqual([s.id]);
    const next = { nextRunAt: "2026-11-23T10:05:00.000Z", enabled: true, at: "2026-11-23T10:00:01.000Z" };
    const claims = await Promise.all([1, 2, 3, 4].map(() => store.claimSchedule(s.id, s.nextRunAt!, next)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.recordScheduledRun(s.id, "run-1");
    expect(await store.getSchedule(s.id)).toMatchObject({
      nextRunAt: next.nextRunAt,
      lastRunId: "run-1",
      lastRunAt: next.at,
    });
    expect(await store.setScheduleEnabled(s.id, false, null)).toBe(true);
    expect(await store.dueSchedules("2030-01-01T00:00:00.000Z")).toEqual([]);
    expect((await store.listSchedules({ flowId: saved.flow.id })).map((x) => x.enabled)).toEqual([false]);
    expect(await store.deleteSchedule(s.id)).toBe(true);
    expect(await store.deleteSchedule(s.id)).toBe(false);
  });

  it("counts runs by status", async () => {
    const saved = newFlow();
    await store.saveVersion(saved);
    await store.insertRun(runRecord(saved.version, { status: "succeeded" }));
    await store.insertRun(runRecord(saved.version, { status: "succeeded" }));
    await store.insertRun(runRecord(saved.version, { status: "queued" }));
    expect(await store.countRunsByStatus()).toEqual({ succeeded: 2, queued: 1 });
  });
});
