import { type Compilable, type CompiledQuery, type Kysely, type QueryResult, sql } from "kysely";
import { isUniqueViolation, StoreConflictError } from "./errors";
import { migrateToLatest } from "./migrations";
import * as rec from "./records";
import * as chat from "./chat";
import * as library from "./library";
import type { ChatMessageRecord, ChatSessionPatch, ChatSessionRecord } from "./chat";
import * as gov from "./governance";
import type { Database, JournalTable, StepResultsTable } from "./schema";
import type {
  ApprovalRecord,
  AuditRecord,
  ScheduleRecord,
  CancelOutcome,
  FlowRecord,
  FlowVersionRecord,
  JournalRecord,
  LogRecord,
  PlanRecord,
  RunRecord,
  RunStatus,
  StepAttemptRecord,
  StepResultRecord,
  Store,
  VersionStatus,
} from "./types";

/** Statuses a run can be left in by a crash: it was never finished. */
const UNFINISHED: RunStatus[] = ["queued", "running"];

/** Stands for a value in a query compiled once (see `compiledOnce`); never a stored value. */
const SLOT = "\u0000slot:";

/**
 * A query built and compiled once, then run with new values each time. kysely otherwise
 * builds and compiles the same statement on every call (40–100 µs for the journal's insert,
 * more than SQLite takes to run it), and the journal is written on every capability call.
 * `build` puts `slot(name)` where each value goes; the result binds values by those names.
 */
function compiledOnce<K extends string, R>(
  db: Kysely<Database>,
  // A slot stands for a value of any column type: `never` is assignable to each of them.
  build: (slot: (name: K) => never) => Compilable<R>,
): (values: Record<K, unknown>, on?: Kysely<Database>) => Promise<QueryResult<R>> {
  let compiled: { query: CompiledQuery<R>; names: K[] } | undefined;
  return (values, on = db) => {
    if (!compiled) {
      const query = build((name) => `${SLOT}${name}` as never).compile();
      const names = query.parameters.map((p) => {
        if (typeof p !== "string" || !p.startsWith(SLOT))
          throw new Error(`a query compiled once has a value that is not a slot: ${String(p)}`);
        return p.slice(SLOT.length) as K;
      });
      compiled = { query, names };
    }
    const { query, names } = compiled;
    return on.executeQuery({ ...query, parameters: names.map((n) => values[n]) });
  };
}

/**
 * The Store over kysely: one query layer for SQLite and PostgreSQL. Every query here is
 * portable (no dialect branches); row ↔ record mapping is in records.ts.
 */
export class KyselyStore implements Store {
  /** The journal's read and write, run on every capability call of a flow. */
  private readonly journalRead;
  private readonly journalWrite;
  /** A step's state, written for every step of every run. */
  private readonly stepResultWrite;

  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: "sqlite" | "postgres",
  ) {
    this.journalRead = compiledOnce<"run_id" | "key", JournalTable>(db, (slot) =>
      db
        .selectFrom("journal")
        .selectAll()
        .where("run_id", "=", slot("run_id"))
        .where("key", "=", slot("key")),
    );
    this.journalWrite = compiledOnce<keyof JournalTable, unknown>(db, (slot) =>
      db
        .insertInto("journal")
        .values({
          run_id: slot("run_id"),
          key: slot("key"),
          result_json: slot("result_json"),
          created_at: slot("created_at"),
        })
        .onConflict((oc) => oc.columns(["run_id", "key"]).doNothing()),
    );
    this.stepResultWrite = compiledOnce<keyof StepResultsTable, unknown>(db, (slot) => {
      const row = {
        run_id: slot("run_id"),
        step_id: slot("step_id"),
        host: slot("host"),
        status: slot("status"),
        attempts: slot("attempts"),
        exit_code: slot("exit_code"),
        stdout: slot("stdout"),
        stderr: slot("stderr"),
        error: slot("error"),
        started_at: slot("started_at"),
        finished_at: slot("finished_at"),
      } satisfies Record<keyof StepResultsTable, never>;
      const { run_id: _r, step_id: _s, host: _h, ...rest } = row;
      return db
        .insertInto("step_results")
        .values(row)
        .onConflict((oc) => oc.columns(["run_id", "step_id", "host"]).doUpdateSet(rest));
    });
  }

  migrate(): Promise<void> {
    return migrateToLatest(this.db);
  }

  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  /**
   * Plans are immutable, so a plan id already stored (a new version of the same plan) is
   * kept as is; the flow likewise. The version must be new: a taken (flow, version) is a
   * StoreConflictError and nothing of this call stays.
   */
  async saveVersion(input: {
    plan: PlanRecord;
    flow: FlowRecord;
    version: FlowVersionRecord;
  }): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("plans")
          .values(rec.planToRow(input.plan))
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        await trx
          .insertInto("flows")
          .values(rec.flowToRow(input.flow))
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        await trx.insertInto("flow_versions").values(rec.versionToRow(input.version)).execute();
      });
    } catch (error) {
      const { flowId, version } = input.version;
      if (isUniqueViolation(error))
        throw new StoreConflictError(`flow ${flowId} already has a version ${version}`, { cause: error });
      throw error;
    }
  }

  async getPlan(id: string): Promise<PlanRecord | undefined> {
    const row = await this.db.selectFrom("plans").selectAll().where("id", "=", id).executeTakeFirst();
    return row && rec.planFromRow(row);
  }

  async getFlow(id: string): Promise<FlowRecord | undefined> {
    const row = await this.db.selectFrom("flows").selectAll().where("id", "=", id).executeTakeFirst();
    return row && rec.flowFromRow(row);
  }

  async getVersion(flowId: string, version: number): Promise<FlowVersionRecord | undefined> {
    const row = await this.db
      .selectFrom("flow_versions")
      .selectAll()
      .where("flow_id", "=", flowId)
      .where("version", "=", version)
      .executeTakeFirst();
    return row && rec.versionFromRow(row);
  }

  async latestVersion(flowId: string): Promise<FlowVersionRecord | undefined> {
    const row = await this.db
      .selectFrom("flow_versions")
      .selectAll()
      .where("flow_id", "=", flowId)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && rec.versionFromRow(row);
  }

  async listVersions(filter: { flowId?: string; status?: VersionStatus } = {}): Promise<FlowVersionRecord[]> {
    let query = this.db.selectFrom("flow_versions").selectAll();
    if (filter.flowId !== undefined) query = query.where("flow_id", "=", filter.flowId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    const rows = await query.orderBy("created_at", "desc").orderBy("version", "desc").execute();
    return rows.map(rec.versionFromRow);
  }

  /** The `status = 'pending'` condition makes this the arbiter: of racing approvals, one updates. */
  async approveVersion(
    flowId: string,
    version: number,
    approval: { by: string; at: string; hash: string; comment: string | null },
  ): Promise<FlowVersionRecord | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("flow_versions")
        .set({
          status: "approved",
          approved_by: approval.by,
          approved_at: approval.at,
          approved_hash: approval.hash,
          comment: approval.comment,
        })
        .where("flow_id", "=", flowId)
        .where("version", "=", version)
        .where("status", "=", "pending")
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await gov.recordDecision(trx, {
        flowId,
        version,
        decision: "approved",
        actor: approval.by,
        hash: approval.hash,
        comment: approval.comment,
        at: approval.at,
      });
      return rec.versionFromRow(row);
    });
  }

  async approvals(flowId: string, version: number): Promise<ApprovalRecord[]> {
    const rows = await this.db
      .selectFrom("approvals")
      .selectAll()
      .where("flow_id", "=", flowId)
      .where("version", "=", version)
      .orderBy("at")
      .execute();
    return rows.map((r) => ({
      flowId: r.flow_id,
      version: r.version,
      decision: r.decision,
      actor: r.actor,
      hash: r.hash,
      comment: r.comment,
      at: r.at,
    }));
  }

  /** One conditional UPDATE: the database decides between racing claimers. */
  async claimRun(runId: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const row = await this.db
      .updateTable("runs")
      .set({ owner, lease_until: now + leaseMs })
      .where("id", "=", runId)
      .where("status", "in", UNFINISHED)
      .where((eb) => eb.or([eb("owner", "is", null), eb("owner", "=", owner), eb("lease_until", "<", now)]))
      .returning("id")
      .executeTakeFirst();
    return row !== undefined;
  }

  async heartbeatRun(
    runId: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    const row = await this.db
      .updateTable("runs")
      .set({ lease_until: Date.now() + leaseMs })
      .where("id", "=", runId)
      .where("owner", "=", owner)
      .returning("cancel_requested")
      .executeTakeFirst();
    return { held: row !== undefined, cancelRequested: Boolean(row?.cancel_requested) };
  }

  async releaseRun(runId: string, owner: string): Promise<void> {
    await this.db
      .updateTable("runs")
      .set({ owner: null, lease_until: null })
      .where("id", "=", runId)
      .where("owner", "=", owner)
      .execute();
  }

  async claimableRuns(): Promise<RunRecord[]> {
    const now = Date.now();
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .where("status", "in", UNFINISHED)
      .where((eb) => eb.or([eb("owner", "is", null), eb("lease_until", "<", now)]))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(rec.runFromRow);
  }

  async requestCancel(runId: string): Promise<CancelOutcome> {
    const now = Date.now();
    const direct = await this.db
      .updateTable("runs")
      .set({
        status: "cancelled",
        error: "cancelled before it started",
        finished_at: new Date(now).toISOString(),
        cancel_requested: 1,
      })
      .where("id", "=", runId)
      .where("status", "=", "queued")
      .where((eb) => eb.or([eb("owner", "is", null), eb("lease_until", "<", now)]))
      .returning("id")
      .executeTakeFirst();
    if (direct) return "cancelled";
    const flagged = await this.db
      .updateTable("runs")
      .set({ cancel_requested: 1 })
      .where("id", "=", runId)
      .where("status", "in", UNFINISHED)
      .returning("id")
      .executeTakeFirst();
    if (flagged) return "requested";
    return (await this.getRun(runId)) ? "finished" : "not_found";
  }

  async cancelRequested(runId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("runs")
      .select("cancel_requested")
      .where("id", "=", runId)
      .executeTakeFirst();
    return Boolean(row?.cancel_requested);
  }

  async putAttempt(a: StepAttemptRecord): Promise<void> {
    const row = {
      run_id: a.runId,
      step_id: a.stepId,
      host: a.host,
      attempt: a.attempt,
      status: a.status,
      exit_code: a.exitCode,
      error: a.error === null ? null : a.error.slice(0, 10_000),
      started_at: a.startedAt,
      finished_at: a.finishedAt,
    };
    const { run_id: _r, step_id: _s, host: _h, attempt: _a, ...rest } = row;
    await this.db
      .insertInto("step_attempts")
      .values(row)
      .onConflict((oc) => oc.columns(["run_id", "step_id", "host", "attempt"]).doUpdateSet(rest))
      .execute();
  }

  async attempts(runId: string): Promise<StepAttemptRecord[]> {
    const rows = await this.db
      .selectFrom("step_attempts")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("started_at")
      .orderBy("step_id")
      .orderBy("host")
      .orderBy("attempt")
      .execute();
    return rows.map((r) => ({
      runId: r.run_id,
      stepId: r.step_id,
      host: r.host,
      attempt: r.attempt,
      status: r.status,
      exitCode: r.exit_code,
      error: r.error,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }

  async insertRun(run: RunRecord): Promise<void> {
    try {
      await this.db.insertInto("runs").values(rec.runToRow(run)).execute();
    } catch (error) {
      if (isUniqueViolation(error))
        throw new StoreConflictError(`run ${run.id} already exists`, { cause: error });
      throw error;
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    return row && rec.runFromRow(row);
  }

  async updateRun(
    id: string,
    patch: Partial<Pick<RunRecord, "status" | "error" | "startedAt" | "finishedAt">>,
  ): Promise<void> {
    const set = rec.runPatchToRow(patch);
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable("runs").set(set).where("id", "=", id).execute();
  }

  async unfinishedRuns(): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom("runs")
      .selectAll()
      .where("status", "in", UNFINISHED)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(rec.runFromRow);
  }

  async listRuns(filter: { flowId?: string; status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    let query = this.db.selectFrom("runs").selectAll();
    if (filter.flowId !== undefined) query = query.where("flow_id", "=", filter.flowId);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    const rows = await query
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(rec.runFromRow);
  }

  async putStepResult(result: StepResultRecord): Promise<void> {
    await this.stepResultWrite(rec.stepResultToRow(result));
  }

  async putStepResults(results: readonly StepResultRecord[]): Promise<void> {
    if (!results.length) return;
    await this.db.transaction().execute(async (trx) => {
      for (const result of results) await this.stepResultWrite(rec.stepResultToRow(result), trx);
    });
  }

  async stepResults(runId: string): Promise<StepResultRecord[]> {
    const rows = await this.db
      .selectFrom("step_results")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("started_at")
      .orderBy("step_id")
      .orderBy("host")
      .execute();
    return rows.map(rec.stepResultFromRow);
  }

  /**
   * The run row is the per-run counter: incrementing it locks the row until commit, so
   * appends from any number of connections or processes get consecutive seqs, in the order
   * they commit.
   */
  async appendLog(log: Omit<LogRecord, "seq">): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const counter = await trx
        .updateTable("runs")
        .set((eb) => ({ last_log_seq: eb("last_log_seq", "+", 1) }))
        .where("id", "=", log.runId)
        .returning("last_log_seq")
        .executeTakeFirst();
      if (!counter) throw new Error(`cannot log to run ${log.runId}: no such run`);
      await trx.insertInto("logs").values(rec.logToRow(log, counter.last_log_seq)).execute();
    });
  }

  async logs(runId: string): Promise<LogRecord[]> {
    const rows = await this.db
      .selectFrom("logs")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("seq")
      .execute();
    return rows.map(rec.logFromRow);
  }

  async getJournal(runId: string, key: string): Promise<JournalRecord | undefined> {
    const { rows } = await this.journalRead({ run_id: runId, key });
    const row = rows[0];
    return row && rec.journalFromRow(row);
  }

  /** First write wins: a replayed call that completed again must not replace what was recorded. */
  async putJournal(entry: JournalRecord): Promise<void> {
    await this.journalWrite(rec.journalToRow(entry));
  }

  rejectVersion(flowId: string, version: number, rejection: { by: string; at: string; reason: string }) {
    return gov.rejectVersion(this.db, flowId, version, rejection, () => this.getVersion(flowId, version));
  }

  appendAudit(entry: Omit<AuditRecord, "id">) {
    return gov.appendAudit(this.db, entry);
  }

  listAudit(filter: { subject?: string; action?: string; actor?: string; limit?: number } = {}) {
    return gov.listAudit(this.db, filter);
  }

  countRunsByStatus() {
    return gov.countRunsByStatus(this.db);
  }

  createSchedule(schedule: ScheduleRecord) {
    return gov.createSchedule(this.db, schedule);
  }

  getSchedule(id: string) {
    return gov.getSchedule(this.db, id);
  }

  listSchedules(filter: { flowId?: string } = {}) {
    return gov.listSchedules(this.db, filter);
  }

  setScheduleEnabled(id: string, enabled: boolean, nextRunAt: string | null) {
    return gov.setScheduleEnabled(this.db, id, enabled, nextRunAt);
  }

  deleteSchedule(id: string) {
    return gov.deleteSchedule(this.db, id);
  }

  dueSchedules(now: string) {
    return gov.dueSchedules(this.db, now);
  }

  claimSchedule(
    id: string,
    expected: string,
    next: { nextRunAt: string | null; enabled: boolean; at: string },
  ) {
    return gov.claimSchedule(this.db, id, expected, next);
  }

  recordScheduledRun(id: string, runId: string) {
    return gov.recordScheduledRun(this.db, id, runId);
  }

  createChatSession(session: ChatSessionRecord): Promise<void> {
    return chat.createChatSession(this.db, session);
  }

  getChatSession(id: string): Promise<ChatSessionRecord | undefined> {
    return chat.getChatSession(this.db, id);
  }

  updateChatSession(id: string, patch: ChatSessionPatch): Promise<void> {
    return chat.updateChatSession(this.db, id, patch);
  }

  appendChatMessage(message: Omit<ChatMessageRecord, "seq">): Promise<ChatMessageRecord> {
    return chat.appendChatMessage(this.db, message);
  }

  chatMessages(sessionId: string): Promise<ChatMessageRecord[]> {
    return chat.chatMessages(this.db, sessionId);
  }

  promoteLibraryEntry(entry: library.LibraryEntryRecord): Promise<void> {
    return library.promoteLibraryEntry(this.db, entry);
  }

  listLibraryEntries(): Promise<library.LibraryEntryRecord[]> {
    return library.listLibraryEntries(this.db);
  }

  getLibraryEntry(id: string): Promise<library.LibraryEntryRecord | undefined> {
    return library.getLibraryEntry(this.db, id);
  }

  libraryStats(flowId: string, version: number): Promise<library.LibraryStats> {
    return library.libraryStats(this.db, flowId, version);
  }
}
