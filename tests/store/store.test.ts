import { existsSync } from "node:fs";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, StoreConflictError, StoredDataError } from "../../src/store";
import { MIGRATIONS, migrateToLatest } from "../../src/store/migrations";
import type { Database } from "../../src/store/schema";
import type { FlowVersionRecord, Store } from "../../src/store/types";
import { BACKENDS, type TestDatabase } from "./backends";
import { flowRecord, newFlow, planRecord, runRecord, stepResult, UNICODE, versionRecord } from "./fixtures";

describe.each(BACKENDS)("store on $name", (backend) => {
  let database: TestDatabase;
  let store: Store;
  const opened: { close(): Promise<void> }[] = [];
  const raws: Kysely<Database>[] = [];

  async function open(): Promise<Store> {
    const s = await openStore(database.config);
    opened.push(s);
    return s;
  }
  function raw(): Kysely<Database> {
    const db = database.raw();
    raws.push(db);
    return db;
  }
  /** A saved version 1 of a new flow, and a run of it. */
  async function savedRun(overrides: Parameters<typeof runRecord>[1] = {}) {
    const saved = newFlow();
    await store.saveVersion(saved);
    const run = runRecord(saved.version, overrides);
    await store.insertRun(run);
    return { ...saved, run };
  }

  beforeEach(async () => {
    database = await backend.create();
    store = await open();
    await store.migrate();
  });

  afterEach(async () => {
    await Promise.all([...opened.splice(0).map((s) => s.close()), ...raws.splice(0).map((d) => d.destroy())]);
    await database.drop();
  });

  describe("migrations", () => {
    async function applied(): Promise<string[]> {
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        raw(),
      );
      return rows.rows.map((r) => r.name);
    }

    it("applies every migration once; migrating again changes nothing", async () => {
      expect(store.kind).toBe(backend.name);
      expect(await applied()).toEqual(MIGRATIONS.map((m) => m.name));
      await store.migrate();
      await store.migrate();
      expect(await applied()).toEqual(MIGRATIONS.map((m) => m.name));
    });

    it("lets two stores migrate a fresh database at the same time", async () => {
      await database.drop();
      database = await backend.create();
      const [a, b] = [await open(), await open()];
      await Promise.all([a.migrate(), b.migrate()]);
      expect(await applied()).toEqual(MIGRATIONS.map((m) => m.name));
      await a.saveVersion(newFlow());
    });

    it("rolls back a migration that fails halfway, leaving no table of it", async () => {
      const db = raw();
      const failing = [
        ...MIGRATIONS,
        {
          name: "9999_fails_halfway",
          up: async (trx: Kysely<Database>) => {
            await trx.schema.createTable("half_made").addColumn("id", "text").execute();
            await sql`select * from no_such_table`.execute(trx);
          },
        },
      ];
      await expect(migrateToLatest(db, failing)).rejects.toThrow(/"9999_fails_halfway" failed/);
      expect((await db.introspection.getTables()).map((t) => t.name)).not.toContain("half_made");
      expect(await applied()).toEqual(MIGRATIONS.map((m) => m.name));
    });

    it("answers ping while open", async () => {
      expect(await store.ping()).toBe(true);
    });
  });

  if (backend.name === "sqlite")
    it("creates the database file's folder", () => {
      if (database.config.kind === "sqlite") expect(existsSync(database.config.path)).toBe(true);
    });

  describe("versions", () => {
    it("round-trips every field of plan, flow and version, unicode and large text included", async () => {
      const large = `/* ${"x".repeat(2_000_000)} ${UNICODE} */`;
      const saved = newFlow({ source: large, bundle: large, sourceMap: large });
      saved.plan = { ...planRecord({ id: saved.plan.id }), origin: "legacy", planner: null };
      await store.saveVersion(saved);
      expect(await store.getPlan(saved.plan.id)).toEqual(saved.plan);
      expect(await store.getFlow(saved.flow.id)).toEqual(saved.flow);
      expect(await store.getVersion(saved.flow.id, 1)).toEqual(saved.version);
    });

    it("round-trips nulls, an empty diagnostics list and an absent route decision", async () => {
      const saved = newFlow({
        engine: "queue",
        route: undefined,
        source: null,
        diagnostics: [],
        bundle: null,
        sourceMap: null,
        readOnly: false,
        createdBy: null,
      });
      await store.saveVersion(saved);
      expect(await store.getVersion(saved.flow.id, 1)).toEqual(saved.version);
    });

    it("adds versions to an existing flow, reusing its plan, and finds the latest", async () => {
      const saved = newFlow();
      await store.saveVersion(saved);
      const v2 = versionRecord(saved.plan, saved.flow, { version: 2, createdAt: "2025-02-01T00:00:00.000Z" });
      await store.saveVersion({ plan: saved.plan, flow: { ...saved.flow, name: "renamed" }, version: v2 });
      expect(await store.latestVersion(saved.flow.id)).toEqual(v2);
      expect((await store.getFlow(saved.flow.id))?.name).toBe(saved.flow.name);
      expect((await store.listVersions({ flowId: saved.flow.id })).map((v) => v.version)).toEqual([2, 1]);
      expect(await store.latestVersion("no-such-flow")).toBeUndefined();
      expect(await store.getVersion(saved.flow.id, 3)).toBeUndefined();
    });

    it("keeps nothing of a saveVersion whose version insert fails", async () => {
      const saved = newFlow();
      await store.saveVersion(saved);
      const plan = planRecord();
      const retry = {
        plan,
        flow: saved.flow,
        version: versionRecord(plan, saved.flow, { comment: "again" }),
      };
      await expect(store.saveVersion(retry)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.getPlan(plan.id)).toBeUndefined();
      expect(await store.getVersion(saved.flow.id, 1)).toEqual(saved.version);
    });

    it("keeps neither the new plan nor the new flow when the version refers to a missing plan", async () => {
      const plan = planRecord();
      const flow = flowRecord();
      const version = versionRecord(plan, flow, { planId: "missing-plan" });
      await expect(store.saveVersion({ plan, flow, version })).rejects.toThrow();
      expect(await store.getPlan(plan.id)).toBeUndefined();
      expect(await store.getFlow(flow.id)).toBeUndefined();
    });

    it("lists versions by status", async () => {
      const a = newFlow();
      const b = newFlow({ status: "approved" });
      await store.saveVersion(a);
      await store.saveVersion(b);
      const pending = await store.listVersions({ status: "pending" });
      expect(pending.map((v) => v.flowId)).toEqual([a.flow.id]);
    });
  });

  describe("approval", () => {
    const approval = {
      by: "bob",
      at: "2025-01-03T00:00:00.000Z",
      hash: "a".repeat(64),
      comment: "looks fine",
    };

    it("approves a pending version once, pinning who, when and the hash", async () => {
      const saved = newFlow();
      await store.saveVersion(saved);
      const approved = await store.approveVersion(saved.flow.id, 1, approval);
      const expected: FlowVersionRecord = {
        ...saved.version,
        status: "approved",
        approvedBy: "bob",
        approvedAt: approval.at,
        approvedHash: approval.hash,
        comment: "looks fine",
      };
      expect(approved).toEqual(expected);
      expect(await store.approveVersion(saved.flow.id, 1, { ...approval, by: "carol" })).toBeUndefined();
      expect(await store.getVersion(saved.flow.id, 1)).toEqual(expected);
    });

    it("lets exactly one of racing approvals win", async () => {
      const saved = newFlow();
      await store.saveVersion(saved);
      const results = await Promise.all(
        ["a", "b", "c", "d", "e"].map((by) => store.approveVersion(saved.flow.id, 1, { ...approval, by })),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect((await store.getVersion(saved.flow.id, 1))?.approvedBy).toBe(winners[0]?.approvedBy);
    });

    it("does not approve a rejected or unknown version", async () => {
      const saved = newFlow({ status: "rejected" });
      await store.saveVersion(saved);
      expect(await store.approveVersion(saved.flow.id, 1, approval)).toBeUndefined();
      expect(await store.approveVersion("no-such-flow", 1, approval)).toBeUndefined();
    });
  });

  describe("runs", () => {
    it("records a run's lifecycle; unfinishedRuns lists the queued and running ones", async () => {
      const { version, run } = await savedRun();
      expect(await store.getRun(run.id)).toEqual(run);
      const other = runRecord(version, { createdAt: "2025-01-02T03:04:06.000Z" });
      await store.insertRun(other);
      expect((await store.unfinishedRuns()).map((r) => r.id)).toEqual([run.id, other.id]);

      await store.updateRun(run.id, { status: "running", startedAt: "2025-01-02T03:05:00.000Z" });
      expect(await store.getRun(run.id)).toEqual({
        ...run,
        status: "running",
        startedAt: "2025-01-02T03:05:00.000Z",
      });
      expect((await store.unfinishedRuns()).map((r) => r.id)).toEqual([run.id, other.id]);

      await store.updateRun(run.id, {
        status: "failed",
        error: UNICODE,
        finishedAt: "2025-01-02T03:06:00.000Z",
      });
      await store.updateRun(other.id, { status: "cancelled" });
      await store.updateRun(other.id, {});
      expect(await store.getRun(run.id)).toEqual({
        ...run,
        status: "failed",
        error: UNICODE,
        startedAt: "2025-01-02T03:05:00.000Z",
        finishedAt: "2025-01-02T03:06:00.000Z",
      });
      expect(await store.unfinishedRuns()).toEqual([]);
      expect((await store.listRuns({ flowId: version.flowId })).map((r) => r.id)).toEqual([other.id, run.id]);
      expect((await store.listRuns({ status: "failed" })).map((r) => r.id)).toEqual([run.id]);
      expect(await store.listRuns({ limit: 1 })).toHaveLength(1);
      expect(await store.getRun("no-such-run")).toBeUndefined();
    });

    it("refuses a second run with the same id, and a run of an unknown version", async () => {
      const { version, run } = await savedRun();
      await expect(store.insertRun(run)).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.insertRun(runRecord({ ...version, version: 9 }))).rejects.toThrow();
    });
  });

  describe("step results", () => {
    it("keeps one row per (run, step, host), replaced by the latest put", async () => {
      const { run } = await savedRun();
      await store.putStepResult(stepResult(run.id));
      const done = stepResult(run.id, {
        status: "succeeded",
        attempts: 2,
        exitCode: 0,
        stdout: `active ${UNICODE}\n`.repeat(10_000),
        stderr: "warning",
        finishedAt: "2025-01-02T03:04:07.000Z",
      });
      await store.putStepResult(done);
      const other = stepResult(run.id, { host: "web2", status: "failed", exitCode: 3, error: "inactive" });
      const hostless = stepResult(run.id, { stepId: "say_hello", host: "", status: "skipped" });
      await store.putStepResult(other);
      await store.putStepResult(hostless);
      const results = await store.stepResults(run.id);
      expect(results).toHaveLength(3);
      expect(results).toEqual(expect.arrayContaining([done, other, hostless]));
    });

    it("stores NUL bytes of command output as U+FFFD on every backend", async () => {
      const { run } = await savedRun();
      await store.putStepResult(stepResult(run.id, { stdout: "a\u0000b", stderr: "\u0000" }));
      const [stored] = await store.stepResults(run.id);
      expect([stored?.stdout, stored?.stderr]).toEqual(["a\uFFFDb", "\uFFFD"]);
    });
  });

  describe("logs", () => {
    const line = { at: "2025-01-02T03:04:05.678Z", level: "info", stepId: null, host: null } as const;

    it("numbers each run's logs 1, 2, 3… and returns them in that order", async () => {
      const a = await savedRun();
      const b = await savedRun();
      await store.appendLog({ ...line, runId: a.run.id, message: "first" });
      await store.appendLog({ ...line, runId: b.run.id, message: "other run" });
      await store.appendLog({
        ...line,
        runId: a.run.id,
        level: "error",
        stepId: "check_nginx",
        host: "web1",
        message: UNICODE,
      });
      expect(await store.logs(a.run.id)).toEqual([
        { ...line, runId: a.run.id, seq: 1, message: "first" },
        {
          ...line,
          runId: a.run.id,
          seq: 2,
          level: "error",
          stepId: "check_nginx",
          host: "web1",
          message: UNICODE,
        },
      ]);
      expect((await store.logs(b.run.id)).map((l) => l.seq)).toEqual([1]);
    });

    it("gives concurrent appends distinct, consecutive seqs", async () => {
      const { run } = await savedRun();
      const messages = Array.from({ length: 50 }, (_, i) => `line ${i}`);
      await Promise.all(messages.map((message) => store.appendLog({ ...line, runId: run.id, message })));
      const logs = await store.logs(run.id);
      expect(logs.map((l) => l.seq)).toEqual(messages.map((_, i) => i + 1));
      expect(logs.map((l) => l.message).sort()).toEqual([...messages].sort());
    });

    it("refuses a log line for an unknown run", async () => {
      await expect(store.appendLog({ ...line, runId: "no-such-run", message: "x" })).rejects.toThrow(
        /no such run/,
      );
    });
  });

  describe("journal", () => {
    it("keeps the first result recorded for a key", async () => {
      const { run } = await savedRun();
      const first = {
        runId: run.id,
        key: "step:check/ssh:0",
        result: { exitCode: 0, stdout: UNICODE },
        createdAt: "t1",
      };
      expect(await store.getJournal(run.id, first.key)).toBeUndefined();
      await store.putJournal(first);
      await store.putJournal({ ...first, result: { exitCode: 1 }, createdAt: "t2" });
      expect(await store.getJournal(run.id, first.key)).toEqual(first);
    });

    it("tells a recorded undefined from a recorded null", async () => {
      const { run } = await savedRun();
      await store.putJournal({ runId: run.id, key: "undefined", result: undefined, createdAt: "t" });
      await store.putJournal({ runId: run.id, key: "null", result: null, createdAt: "t" });
      expect(await store.getJournal(run.id, "undefined")).toEqual({
        runId: run.id,
        key: "undefined",
        createdAt: "t",
      });
      expect((await store.getJournal(run.id, "undefined"))?.result).toBeUndefined();
      expect((await store.getJournal(run.id, "null"))?.result).toBeNull();
    });

    it("keeps exactly one of concurrent puts for the same key, without errors", async () => {
      const { run } = await savedRun();
      const puts = Array.from({ length: 20 }, (_, i) => ({
        runId: run.id,
        key: "k",
        result: { i },
        createdAt: `t${i}`,
      }));
      await Promise.all(puts.map((p) => store.putJournal(p)));
      const kept = await store.getJournal(run.id, "k");
      expect(puts).toContainEqual(kept);
      expect(await store.getJournal(run.id, "k")).toEqual(kept);
    });
  });

  describe("unreadable stored data", () => {
    it("surfaces corrupt JSON as a StoredDataError naming the row, and keeps working", async () => {
      const { plan, version, run } = await savedRun();
      const db = raw();
      await db.updateTable("plans").set({ plan_json: "{not json" }).where("id", "=", plan.id).execute();
      await db
        .updateTable("flow_versions")
        .set({ targets_json: "[]" })
        .where("flow_id", "=", version.flowId)
        .execute();
      const planError = await store.getPlan(plan.id).catch((e: unknown) => e);
      expect(planError).toBeInstanceOf(StoredDataError);
      expect(String(planError)).toContain(`plans.plan_json of ${plan.id}`);
      await expect(store.getVersion(version.flowId, 1)).rejects.toThrow(
        /expected a JSON object, found array/,
      );
      expect(await store.getRun(run.id)).toEqual(run);
    });
  });
});
