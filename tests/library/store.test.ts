import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { autoPromote, describePlan, LibraryError, promote } from "../../src/library";
import { openStore } from "../../src/store";
import { LibraryVersionTaken, promoteLibraryEntry } from "../../src/store/library";
import { MIGRATIONS, migrateToLatest } from "../../src/store/migrations";
import type { Database } from "../../src/store/schema";
import type { LibraryEntryRecord, RunStatus, Store } from "../../src/store/types";
import { BACKENDS, type TestDatabase } from "../store/backends";
import { newFlow, runRecord } from "../store/fixtures";

/** Automatic promotion and one entry per version, on SQLite and PostgreSQL. */
describe.each(BACKENDS)("the flow library's store on $name", (backend) => {
  let database: TestDatabase;
  let store: Store;
  const opened: { close(): Promise<void> }[] = [];
  const raws: Kysely<Database>[] = [];

  async function open(): Promise<Store> {
    const s = await openStore(database.config);
    opened.push(s);
    await s.migrate();
    return s;
  }

  beforeEach(async () => {
    database = await backend.create();
    store = await open();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const r of raws.splice(0)) await r.destroy();
    await database.drop();
  });

  /** An approved version 1 of a new flow, with runs that ended as given. */
  async function approvedWithRuns(statuses: RunStatus[]) {
    const saved = newFlow({
      status: "approved",
      approvedBy: "rev",
      approvedAt: "2025-01-02T03:04:06.000Z",
      approvedHash: "a".repeat(64),
    });
    await store.saveVersion(saved);
    for (const status of statuses)
      await store.insertRun(
        runRecord(saved.version, {
          status,
          startedAt: "2025-01-02T03:05:00.000Z",
          finishedAt: "2025-01-02T03:05:02.000Z",
        }),
      );
    return saved;
  }

  const ended = (flowId: string) => ({ flowId, version: 1, status: "succeeded" });

  it("promotes a version once it has N succeeded runs, as system, with what its plan says", async () => {
    const { flow, plan } = await approvedWithRuns(["succeeded", "failed"]);
    expect(await autoPromote(store, ended(flow.id), 2)).toBeNull();
    expect(await store.listLibraryEntries()).toEqual([]);
    await store.insertRun(runRecord((await store.getVersion(flow.id, 1))!, { status: "succeeded" }));
    const entry = await autoPromote(store, ended(flow.id), 2);
    expect(entry).toMatchObject({
      name: plan.plan.title,
      description: describePlan(plan.plan, 2),
      flowId: flow.id,
      version: 1,
      examples: [plan.plan.intent],
      createdBy: null,
      approvedHosts: ["web1", "web2"],
    });
    expect(entry!.description).toContain("Promoted automatically after 2 successful runs");
    expect(await store.listLibraryEntries()).toHaveLength(1);
    const [audit] = await store.listAudit({ action: "library.promoted" });
    expect(audit).toMatchObject({
      actor: "system",
      subject: `flow:${flow.id}@1`,
      detail: { by: "auto", succeededRuns: 2, after: 2 },
    });
    // Further runs change nothing: the version is in the library.
    expect(await autoPromote(store, ended(flow.id), 2)).toBeNull();
    expect(await store.listLibraryEntries()).toHaveLength(1);
  });

  it("does nothing when off, for runs that did not succeed, or for versions not approved", async () => {
    const { flow } = await approvedWithRuns(["succeeded", "succeeded"]);
    expect(await autoPromote(store, ended(flow.id), 0)).toBeNull();
    expect(await autoPromote(store, { ...ended(flow.id), status: "failed" }, 1)).toBeNull();
    const pending = newFlow();
    await store.saveVersion(pending);
    await store.insertRun(runRecord(pending.version, { status: "succeeded" }));
    expect(await autoPromote(store, ended(pending.flow.id), 1)).toBeNull();
    expect(await autoPromote(store, ended(randomUUID()), 1)).toBeNull();
    expect(await store.listLibraryEntries()).toEqual([]);
  });

  it("two workers finishing runs at once promote the version once", async () => {
    const { flow } = await approvedWithRuns(["succeeded", "succeeded", "succeeded"]);
    // Two Store instances: two processes on one database, each deciding on its own.
    const other = await open();
    const results = await Promise.all([
      autoPromote(store, ended(flow.id), 2),
      autoPromote(other, ended(flow.id), 2),
      autoPromote(store, ended(flow.id), 2),
      autoPromote(other, ended(flow.id), 2),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.listLibraryEntries()).toHaveLength(1);
    expect(await store.listAudit({ action: "library.promoted" })).toHaveLength(1);
  });

  it("keeps one entry per version: a reviewer's second promotion is refused, and so is a raw insert", async () => {
    const { flow } = await approvedWithRuns(["succeeded"]);
    const first = await promote(
      store,
      { flowId: flow.id, version: 1, name: "nginx check", description: "check nginx", examples: [] },
      "rev",
    );
    const again = await promote(
      store,
      { flowId: flow.id, version: 1, name: "another name", description: "again", examples: [] },
      "rev",
    ).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(LibraryError);
    expect((again as LibraryError).code).toBe("already_promoted");
    // Past the check (a race): the unique index refuses it.
    await expect(
      store.promoteLibraryEntry({ ...first, id: randomUUID(), name: "raced" }),
    ).rejects.toBeInstanceOf(LibraryVersionTaken);
    // Automatic promotion leaves a version a reviewer promoted alone.
    expect(await autoPromote(store, ended(flow.id), 1)).toBeNull();
    expect((await store.listLibraryEntries()).map((e) => e.name)).toEqual(["nginx check"]);
  });

  it("takes a qualified name when the plan's title names another entry", async () => {
    const a = await approvedWithRuns(["succeeded"]);
    const b = await approvedWithRuns(["succeeded"]);
    const first = await autoPromote(store, ended(a.flow.id), 1);
    const second = await autoPromote(store, ended(b.flow.id), 1);
    expect(first!.name).toBe(a.plan.plan.title);
    expect(second!.name).toBe(`${b.plan.plan.title} (flow ${b.flow.id.slice(0, 8)} v1)`);
  });

  it("migration 0006 keeps the oldest of entries that promote one version twice, and audits the others", async () => {
    await database.drop();
    database = await backend.create();
    const db = database.raw();
    raws.push(db);
    await migrateToLatest(db, MIGRATIONS.slice(0, 5));
    const old = { flowId: randomUUID() }; // entries do not reference flows: any id does
    const entry = (name: string, at: string): LibraryEntryRecord => ({
      id: randomUUID(),
      name,
      description: `${name} description`,
      flowId: old.flowId,
      version: 1,
      params: [],
      examples: [`${name} example`],
      approvedHosts: ["web1"],
      createdBy: "rev",
      createdAt: at,
    });
    await promoteLibraryEntry(db, entry("first", "2025-01-01T00:00:00.000Z"));
    await promoteLibraryEntry(db, entry("second", "2025-01-02T00:00:00.000Z"));
    await migrateToLatest(db, MIGRATIONS);
    const s = await open();
    expect((await s.listLibraryEntries()).map((e) => e.name)).toEqual(["first"]);
    const [audit] = await s.listAudit({ action: "library.deduplicated" });
    expect(audit).toMatchObject({
      actor: "migration",
      subject: `flow:${old.flowId}@1`,
      detail: { name: "second", examples: ["second example"] },
    });
  });
});
