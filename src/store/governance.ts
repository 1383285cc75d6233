import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema";
import type { ApprovalRecord, AuditRecord, FlowVersionRecord, RunStatus, ScheduleRecord } from "./types";

/**
 * The store's governance records, kept apart from the run machinery: rejections, the audit
 * trail, and schedules. KyselyStore delegates to these; the SQL is the same on both dialects.
 */

type Db = Kysely<Database>;

export async function rejectVersion(
  db: Db,
  flowId: string,
  version: number,
  rejection: { by: string; at: string; reason: string },
  readVersion: () => Promise<FlowVersionRecord | undefined>,
): Promise<FlowVersionRecord | undefined> {
  const rejected = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("flow_versions")
      .set({ status: "rejected", comment: rejection.reason })
      .where("flow_id", "=", flowId)
      .where("version", "=", version)
      .where("status", "=", "pending")
      .returning(["hash"])
      .executeTakeFirst();
    if (!row) return false;
    await recordDecision(trx, {
      flowId,
      version,
      decision: "rejected",
      actor: rejection.by,
      hash: row.hash,
      comment: rejection.reason,
      at: rejection.at,
    });
    return true;
  });
  return rejected ? readVersion() : undefined;
}

/** One row of a version's decision history (approvals table), inside the caller's transaction. */
export async function recordDecision(db: Db, d: ApprovalRecord): Promise<void> {
  await db
    .insertInto("approvals")
    .values({
      id: randomUUID(),
      flow_id: d.flowId,
      version: d.version,
      decision: d.decision,
      actor: d.actor,
      hash: d.hash,
      comment: d.comment,
      at: d.at,
    })
    .execute();
}

export async function appendAudit(db: Db, entry: Omit<AuditRecord, "id">): Promise<AuditRecord> {
  const id = randomUUID();
  await db
    .insertInto("audit")
    .values({
      id,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      detail_json: JSON.stringify(entry.detail ?? {}),
    })
    .execute();
  return { id, ...entry };
}

export async function listAudit(
  db: Db,
  filter: { subject?: string; action?: string; actor?: string; limit?: number },
): Promise<AuditRecord[]> {
  let q = db.selectFrom("audit").selectAll();
  if (filter.subject) q = q.where("subject", "=", filter.subject);
  if (filter.action) q = q.where("action", "=", filter.action);
  if (filter.actor) q = q.where("actor", "=", filter.actor);
  const rows = await q
    .orderBy("at", "desc")
    .orderBy("id")
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    detail: safeJson(r.detail_json),
  }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unreadable: text.slice(0, 200) };
  }
}

type ScheduleRow = Database["schedules"];

function scheduleFromRow(r: ScheduleRow): ScheduleRecord {
  return {
    id: r.id,
    flowId: r.flow_id,
    version: r.version,
    kind: (r.kind ?? "cron") as ScheduleRecord["kind"],
    spec: r.cron,
    params: safeJson(r.params_json) as Record<string, unknown>,
    enabled: r.enabled === 1,
    nextRunAt: r.next_run_at,
    lastRunId: r.last_run_id,
    lastRunAt: r.last_run_at ?? null,
    createdBy: r.created_by ?? null,
    createdAt: r.created_at,
  };
}

export async function createSchedule(db: Db, s: ScheduleRecord): Promise<void> {
  await db
    .insertInto("schedules")
    .values({
      id: s.id,
      flow_id: s.flowId,
      version: s.version,
      kind: s.kind,
      cron: s.spec,
      params_json: JSON.stringify(s.params),
      enabled: s.enabled ? 1 : 0,
      next_run_at: s.nextRunAt,
      last_run_id: s.lastRunId,
      last_run_at: s.lastRunAt,
      created_by: s.createdBy,
      created_at: s.createdAt,
    })
    .execute();
}

export async function getSchedule(db: Db, id: string): Promise<ScheduleRecord | undefined> {
  const row = await db.selectFrom("schedules").selectAll().where("id", "=", id).executeTakeFirst();
  return row && scheduleFromRow(row);
}

export async function listSchedules(db: Db, filter: { flowId?: string }): Promise<ScheduleRecord[]> {
  let q = db.selectFrom("schedules").selectAll();
  if (filter.flowId) q = q.where("flow_id", "=", filter.flowId);
  return (await q.orderBy("created_at", "desc").execute()).map(scheduleFromRow);
}

export async function setScheduleEnabled(
  db: Db,
  id: string,
  enabled: boolean,
  nextRunAt: string | null,
): Promise<boolean> {
  const r = await db
    .updateTable("schedules")
    .set({ enabled: enabled ? 1 : 0, next_run_at: nextRunAt })
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteSchedule(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom("schedules").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function dueSchedules(db: Db, now: string): Promise<ScheduleRecord[]> {
  const rows = await db
    .selectFrom("schedules")
    .selectAll()
    .where("enabled", "=", 1)
    .where("next_run_at", "is not", null)
    .where("next_run_at", "<=", now)
    .orderBy("next_run_at")
    .limit(100)
    .execute();
  return rows.map(scheduleFromRow);
}

/**
 * Moves a due schedule on to its next time, only if it is still due at `expected`: of several
 * processes that saw it due, exactly one wins and starts the run.
 */
export async function claimSchedule(
  db: Db,
  id: string,
  expected: string,
  next: { nextRunAt: string | null; enabled: boolean; at: string },
): Promise<boolean> {
  const r = await db
    .updateTable("schedules")
    .set({ next_run_at: next.nextRunAt, enabled: next.enabled ? 1 : 0, last_run_at: next.at })
    .where("id", "=", id)
    .where("next_run_at", "=", expected)
    .where("enabled", "=", 1)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function recordScheduledRun(db: Db, id: string, runId: string): Promise<void> {
  await db.updateTable("schedules").set({ last_run_id: runId }).where("id", "=", id).execute();
}

/** How many runs are in each status: what the runs-per-status metric reports. */
export async function countRunsByStatus(db: Db): Promise<Partial<Record<RunStatus, number>>> {
  const rows = await db
    .selectFrom("runs")
    .select(["status", sql<number>`count(*)`.as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
