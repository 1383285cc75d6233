import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import { addChatVersionAndRunParams, createChatTables } from "./chat";
import { addLibraryVersionUnique, createLibraryTables } from "./library";
import { isSqliteBusy, MigrationError } from "./errors";

/**
 * The schema's history: an append-only list. Never edit, remove or reorder an entry that
 * has shipped; change the schema by appending a new one. kysely runs pending entries in
 * name order and refuses a database whose applied history differs, so names carry a
 * zero-padded sequence number. Only the schema builder is used, so each entry runs
 * unchanged on SQLite and PostgreSQL.
 */

// Migrations see the database as it was when they were written, not as schema.ts says now.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kysely's Migration signature takes Kysely<any>.
type AnyDb = Kysely<any>;

export const MIGRATIONS: readonly { name: string; up: (db: AnyDb) => Promise<void> }[] = [
  { name: "0001_core_tables", up: createCoreTables },
  { name: "0002_run_claims_attempts_approvals_schedules", up: addRunClaimsAttemptsApprovalsSchedules },
  { name: "0003_schedule_kinds_audit_indexes", up: addScheduleKindsAndAuditIndexes },
  { name: "0004_chat_sessions", up: createChatTables },
  { name: "0005_flow_library", up: createLibraryTables },
  { name: "0006_library_entry_per_version", up: addLibraryVersionUnique },
  { name: "0007_chat_session_version_and_run_params", up: addChatVersionAndRunParams },
];

async function addScheduleKindsAndAuditIndexes(db: AnyDb): Promise<void> {
  // Schedules are cron expressions, fixed intervals, or one run at a time; `cron` holds the spec.
  await db.schema
    .alterTable("schedules")
    .addColumn("kind", "text", (c) => c.notNull().defaultTo("cron"))
    .execute();
  await db.schema.alterTable("schedules").addColumn("last_run_at", "text").execute();
  await db.schema.alterTable("schedules").addColumn("created_by", "text").execute();
  await db.schema.createIndex("audit_at").on("audit").columns(["at"]).execute();
  await db.schema.createIndex("audit_action").on("audit").columns(["action", "at"]).execute();
}

async function addRunClaimsAttemptsApprovalsSchedules(db: AnyDb): Promise<void> {
  // Which process executes a run, until when (epoch ms), and whether a cancel was asked for:
  // with several workers, this row is what decides who runs it.
  await db.schema.alterTable("runs").addColumn("owner", "text").execute();
  await db.schema.alterTable("runs").addColumn("lease_until", "bigint").execute();
  await db.schema
    .alterTable("runs")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("step_attempts")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
    .addColumn("step_id", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("error", "text")
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addPrimaryKeyConstraint("step_attempts_pk", ["run_id", "step_id", "host", "attempt"])
    .execute();

  await db.schema
    .createTable("approvals")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("flow_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("decision", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("comment", "text")
    .addColumn("at", "text", (c) => c.notNull())
    .addForeignKeyConstraint("approvals_version_fk", ["flow_id", "version"], "flow_versions", [
      "flow_id",
      "version",
    ])
    .execute();
  await db.schema.createIndex("approvals_version").on("approvals").columns(["flow_id", "version"]).execute();

  await db.schema
    .createTable("schedules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("flow_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("cron", "text", (c) => c.notNull())
    .addColumn("params_json", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("next_run_at", "text")
    .addColumn("last_run_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addForeignKeyConstraint("schedules_version_fk", ["flow_id", "version"], "flow_versions", [
      "flow_id",
      "version",
    ])
    .execute();
  await db.schema.createIndex("schedules_next").on("schedules").columns(["enabled", "next_run_at"]).execute();
}

async function createCoreTables(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("plans")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("plan_json", "text", (c) => c.notNull())
    .addColumn("origin", "text", (c) => c.notNull())
    .addColumn("planner", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("flows")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("flow_versions")
    .addColumn("flow_id", "text", (c) => c.notNull().references("flows.id"))
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("plan_id", "text", (c) => c.notNull().references("plans.id"))
    .addColumn("engine", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("targets_json", "text", (c) => c.notNull())
    .addColumn("route_json", "text")
    .addColumn("source", "text")
    .addColumn("diagnostics_json", "text", (c) => c.notNull())
    .addColumn("bundle", "text")
    .addColumn("source_map", "text")
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("read_only", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("approved_by", "text")
    .addColumn("approved_at", "text")
    .addColumn("approved_hash", "text")
    .addColumn("comment", "text")
    .addPrimaryKeyConstraint("flow_versions_pk", ["flow_id", "version"])
    .execute();
  await db.schema.createIndex("flow_versions_status").on("flow_versions").column("status").execute();

  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("flow_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("engine", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("params_json", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("last_log_seq", "integer", (c) => c.notNull().defaultTo(0))
    .addForeignKeyConstraint("runs_version_fk", ["flow_id", "version"], "flow_versions", [
      "flow_id",
      "version",
    ])
    .execute();
  // unfinishedRuns() at every start, and a flow's run history.
  await db.schema.createIndex("runs_status").on("runs").column("status").execute();
  await db.schema.createIndex("runs_flow").on("runs").columns(["flow_id", "created_at"]).execute();

  // A run's step results, logs and journal go with it.
  await db.schema
    .createTable("step_results")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
    .addColumn("step_id", "text", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("stdout", "text", (c) => c.notNull())
    .addColumn("stderr", "text", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addPrimaryKeyConstraint("step_results_pk", ["run_id", "step_id", "host"])
    .execute();

  await db.schema
    .createTable("logs")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("level", "text", (c) => c.notNull())
    .addColumn("step_id", "text")
    .addColumn("host", "text")
    .addColumn("message", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("logs_pk", ["run_id", "seq"])
    .execute();

  await db.schema
    .createTable("journal")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("result_json", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("journal_pk", ["run_id", "key"])
    .execute();

  await db.schema
    .createTable("audit")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("detail_json", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_subject").on("audit").columns(["subject", "at"]).execute();
}

/** Feeds kysely's Migrator from the list, refusing a list whose order was broken by an edit. */
export function listMigrationProvider(list: typeof MIGRATIONS): MigrationProvider {
  return {
    async getMigrations() {
      const byName: Record<string, Migration> = {};
      let previous = "";
      for (const m of list) {
        if (m.name <= previous)
          throw new Error(`migration "${m.name}" must sort after "${previous}": the list is append-only`);
        byName[m.name] = { up: m.up };
        previous = m.name;
      }
      return byName;
    },
  };
}

/** How often a migration that lost a race with another process is retried. */
const RACE_RETRIES = 5;

/**
 * Applies pending migrations. On PostgreSQL the Migrator holds an advisory lock, so two
 * processes starting together apply each migration once. SQLite has no such lock: the
 * process that loses the race fails (SQLITE_BUSY, or "table already exists" once the winner
 * has committed), its transaction is rolled back, and it tries again, finding the work done.
 * A failure while no one else made progress is a real one and is thrown.
 */
export async function migrateToLatest(db: AnyDb, list: typeof MIGRATIONS = MIGRATIONS): Promise<void> {
  const migrator = new Migrator({ db, provider: listMigrationProvider(list) });
  for (let attempt = 1; ; attempt++) {
    const before = await appliedCount(migrator);
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return;
    const raced = isSqliteBusy(error) || (await appliedCount(migrator)) > before;
    if (!raced || attempt > RACE_RETRIES)
      throw new MigrationError(results?.find((r) => r.status === "Error")?.migrationName, { cause: error });
    await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
  }
}

async function appliedCount(migrator: Migrator): Promise<number> {
  return (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).length;
}
