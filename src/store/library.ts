import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { isUniqueViolation } from "./errors";

/**
 * The flow library (migration 0005): approved flow versions promoted by a reviewer to reusable
 * runbooks that the pipeline matches intents against before it calls a planner. KyselyStore
 * delegates to these; the tables are declared here, like chat.ts, so the SQL stays in one file.
 */

export type LibraryParam = {
  name: string;
  type: "string" | "number" | "boolean" | "hosts";
  /** What the parameter stands for (the plan's description, or a default one). */
  description: string;
  default: string | number | boolean | string[] | null;
};

export type LibraryEntryRecord = {
  id: string;
  name: string;
  description: string;
  flowId: string;
  /** The approved version the entry reuses. */
  version: number;
  params: LibraryParam[];
  examples: string[];
  /** Every host the approved version may touch (its targets): reuse stays inside this set. */
  approvedHosts: string[];
  createdBy: string | null;
  createdAt: string;
};

type LibraryTables = {
  library_entries: {
    id: string;
    name: string;
    description: string;
    flow_id: string;
    version: number;
    params_json: string;
    examples_json: string;
    approved_hosts_json: string;
    created_by: string | null;
    created_at: string;
  };
};

type AuditTable = {
  audit: { id: string; at: string; actor: string; action: string; subject: string; detail_json: string };
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Kysely instance over the same database.
type Db = Kysely<any>;
const lib = (db: Db) => db as unknown as Kysely<LibraryTables>;

export async function createLibraryTables(db: Db): Promise<void> {
  await db.schema
    .createTable("library_entries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("flow_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("params_json", "text", (c) => c.notNull())
    .addColumn("examples_json", "text", (c) => c.notNull())
    .addColumn("approved_hosts_json", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}

export class LibraryNameTaken extends Error {
  constructor(name: string) {
    super(`a library entry named "${name}" exists already`);
    this.name = "LibraryNameTaken";
  }
}

/** The version is in the library already (migration 0006: one entry per flow version). */
export class LibraryVersionTaken extends Error {
  constructor(flowId: string, version: number) {
    super(`version ${version} of flow ${flowId} is in the library already`);
    this.name = "LibraryVersionTaken";
  }
}

/**
 * Migration 0006: one library entry per flow version, held by a unique index, so two workers
 * promoting the same version at once (automatic promotion) store it once. Entries that already
 * promote one version twice (possible under 0005) are reduced to the oldest before the index is
 * made; each removed entry is written to the audit trail with its name, description and examples.
 */
export async function addLibraryVersionUnique(db: Db): Promise<void> {
  const rows = await lib(db)
    .selectFrom("library_entries")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.flow_id}@${r.version}`;
    if (!seen.has(key)) {
      seen.add(key);
      continue;
    }
    await (db as unknown as Kysely<AuditTable>)
      .insertInto("audit")
      .values({
        id: randomUUID(),
        at: new Date().toISOString(),
        actor: "migration",
        action: "library.deduplicated",
        subject: `flow:${key}`,
        detail_json: JSON.stringify({
          entry: r.id,
          name: r.name,
          description: r.description,
          examples: JSON.parse(r.examples_json) as unknown,
        }),
      })
      .execute();
    await lib(db).deleteFrom("library_entries").where("id", "=", r.id).execute();
  }
  await db.schema
    .createIndex("library_entries_flow_version")
    .on("library_entries")
    .columns(["flow_id", "version"])
    .unique()
    .execute();
}

export async function promoteLibraryEntry(db: Db, e: LibraryEntryRecord): Promise<void> {
  try {
    await lib(db)
      .insertInto("library_entries")
      .values({
        id: e.id,
        name: e.name,
        description: e.description,
        flow_id: e.flowId,
        version: e.version,
        params_json: JSON.stringify(e.params),
        examples_json: JSON.stringify(e.examples),
        approved_hosts_json: JSON.stringify(e.approvedHosts),
        created_by: e.createdBy,
        created_at: e.createdAt,
      })
      .execute();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Which of the unique columns was taken: the version (0006), else the name (or the id).
    const same = await lib(db)
      .selectFrom("library_entries")
      .select("id")
      .where("flow_id", "=", e.flowId)
      .where("version", "=", e.version)
      .executeTakeFirst();
    if (same) throw new LibraryVersionTaken(e.flowId, e.version);
    throw new LibraryNameTaken(e.name);
  }
}

function toRecord(r: LibraryTables["library_entries"]): LibraryEntryRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    flowId: r.flow_id,
    version: Number(r.version),
    params: JSON.parse(r.params_json) as LibraryParam[],
    examples: JSON.parse(r.examples_json) as string[],
    approvedHosts: JSON.parse(r.approved_hosts_json) as string[],
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** Oldest first. */
export async function listLibraryEntries(db: Db): Promise<LibraryEntryRecord[]> {
  const rows = await lib(db)
    .selectFrom("library_entries")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toRecord);
}

export async function getLibraryEntry(db: Db, id: string): Promise<LibraryEntryRecord | undefined> {
  const r = await lib(db).selectFrom("library_entries").selectAll().where("id", "=", id).executeTakeFirst();
  return r && toRecord(r);
}

export type LibraryStats = {
  /** Runs of the entry's version, whatever started them. */
  runs: number;
  /** Runs that ended (succeeded, failed, cancelled, timed out). */
  finished: number;
  /** Runs that ended with success. */
  succeeded: number;
  /** succeeded / finished; null before any run ended. */
  successRate: number | null;
  /** Median of started → finished over ended runs, in ms; null before any. */
  medianDurationMs: number | null;
};

/** Run statistics of one flow version, read from the runs table. */
export async function libraryStats(db: Db, flowId: string, version: number): Promise<LibraryStats> {
  const rows = await (
    db as unknown as Kysely<{
      runs: {
        flow_id: string;
        version: number;
        status: string;
        started_at: string | null;
        finished_at: string | null;
      };
    }>
  )
    .selectFrom("runs")
    .select(["status", "started_at", "finished_at"])
    .where("flow_id", "=", flowId)
    .where("version", "=", version)
    .execute();
  const ended = rows.filter((r) => r.status !== "queued" && r.status !== "running");
  const durations = ended
    .filter((r) => r.started_at && r.finished_at)
    .map((r) => Date.parse(r.finished_at!) - Date.parse(r.started_at!))
    .filter((d) => Number.isFinite(d) && d >= 0)
    .sort((a, b) => a - b);
  const mid = durations.length >> 1;
  const median = !durations.length
    ? null
    : durations.length % 2
      ? durations[mid]!
      : (durations[mid - 1]! + durations[mid]!) / 2;
  const succeeded = ended.filter((r) => r.status === "succeeded").length;
  return {
    runs: rows.length,
    finished: ended.length,
    succeeded,
    successRate: ended.length ? succeeded / ended.length : null,
    medianDurationMs: median,
  };
}
