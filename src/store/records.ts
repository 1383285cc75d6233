import type { Selectable } from "kysely";
import { StoredDataError } from "./errors";
import type {
  FlowsTable,
  FlowVersionsTable,
  JournalTable,
  LogsTable,
  PlansTable,
  RunsTable,
  StepResultsTable,
} from "./schema";
import type {
  Diagnostic,
  FlowRecord,
  FlowVersionRecord,
  JournalRecord,
  LogRecord,
  PlanRecord,
  RunRecord,
  StepResultRecord,
} from "./types";

/**
 * Every row ↔ record mapping, in one place. Reading is where stored data meets the code
 * again: a JSON column that does not parse, or parses to the wrong kind of value, becomes a
 * StoredDataError naming the row, so a caller answers one request with an error instead of
 * working on garbage.
 */

type Where = { table: string; column: string; key: string };
type JsonKind = "object" | "array" | "any";

function readJson<T>(text: string, kind: JsonKind, where: Where): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StoredDataError(where.table, where.column, where.key, "not valid JSON", { cause });
  }
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (kind !== "any" && actual !== kind)
    throw new StoredDataError(
      where.table,
      where.column,
      where.key,
      `expected a JSON ${kind}, found ${actual}`,
    );
  return value as T;
}

/** JSON has no `undefined`: it is stored as a NULL column and read back as `undefined`. */
function writeOptionalJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function readOptionalJson(text: string | null, where: Where): unknown {
  return text === null ? undefined : readJson(text, "any", where);
}

/**
 * PostgreSQL text cannot hold NUL, and command output sometimes does (binary output). Both
 * backends store U+FFFD in its place, so output is kept, and stored alike everywhere.
 */
function storableText(s: string): string;
function storableText(s: string | null): string | null;
function storableText(s: string | null): string | null {
  return s?.includes("\u0000") ? s.replaceAll("\u0000", "\uFFFD") : s;
}

export function planToRow(p: PlanRecord): PlansTable {
  return {
    id: p.id,
    plan_json: JSON.stringify(p.plan),
    origin: p.origin,
    planner: p.planner,
    created_at: p.createdAt,
  };
}

export function planFromRow(r: Selectable<PlansTable>): PlanRecord {
  return {
    id: r.id,
    plan: readJson(r.plan_json, "object", { table: "plans", column: "plan_json", key: r.id }),
    origin: r.origin,
    planner: r.planner,
    createdAt: r.created_at,
  };
}

export function flowToRow(f: FlowRecord): FlowsTable {
  return { id: f.id, name: f.name, created_at: f.createdAt };
}

export function flowFromRow(r: Selectable<FlowsTable>): FlowRecord {
  return { id: r.id, name: r.name, createdAt: r.created_at };
}

export function versionToRow(v: FlowVersionRecord): FlowVersionsTable {
  return {
    flow_id: v.flowId,
    version: v.version,
    plan_id: v.planId,
    engine: v.engine,
    status: v.status,
    targets_json: JSON.stringify(v.targets),
    route_json: writeOptionalJson(v.route),
    source: v.source,
    diagnostics_json: JSON.stringify(v.diagnostics),
    bundle: v.bundle,
    source_map: v.sourceMap,
    hash: v.hash,
    read_only: v.readOnly ? 1 : 0,
    created_at: v.createdAt,
    created_by: v.createdBy,
    approved_by: v.approvedBy,
    approved_at: v.approvedAt,
    approved_hash: v.approvedHash,
    comment: v.comment,
  };
}

export function versionFromRow(r: Selectable<FlowVersionsTable>): FlowVersionRecord {
  const at = (column: string): Where => ({
    table: "flow_versions",
    column,
    key: `${r.flow_id}@${r.version}`,
  });
  return {
    flowId: r.flow_id,
    version: r.version,
    planId: r.plan_id,
    engine: r.engine,
    status: r.status,
    targets: readJson<Record<string, string[]>>(r.targets_json, "object", at("targets_json")),
    route: readOptionalJson(r.route_json, at("route_json")),
    source: r.source,
    diagnostics: readJson<Diagnostic[]>(r.diagnostics_json, "array", at("diagnostics_json")),
    bundle: r.bundle,
    sourceMap: r.source_map,
    hash: r.hash,
    readOnly: Boolean(r.read_only),
    createdAt: r.created_at,
    createdBy: r.created_by,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at,
    approvedHash: r.approved_hash,
    comment: r.comment,
  };
}

/** A new run starts with no logs: its seq counter at 0. */
export function runToRow(run: RunRecord): RunsTable {
  return {
    id: run.id,
    flow_id: run.flowId,
    version: run.version,
    engine: run.engine,
    status: run.status,
    params_json: JSON.stringify(run.params),
    hash: run.hash,
    error: storableText(run.error),
    created_at: run.createdAt,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    last_log_seq: 0,
    owner: null,
    lease_until: null,
    cancel_requested: 0,
  };
}

export function runPatchToRow(
  patch: Partial<Pick<RunRecord, "status" | "error" | "startedAt" | "finishedAt">>,
): Partial<RunsTable> {
  const row: Partial<RunsTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.error !== undefined) row.error = storableText(patch.error);
  if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
  if (patch.finishedAt !== undefined) row.finished_at = patch.finishedAt;
  return row;
}

export function runFromRow(r: Selectable<RunsTable>): RunRecord {
  return {
    id: r.id,
    flowId: r.flow_id,
    version: r.version,
    engine: r.engine,
    status: r.status,
    params: readJson(r.params_json, "object", { table: "runs", column: "params_json", key: r.id }),
    hash: r.hash,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export function stepResultToRow(s: StepResultRecord): StepResultsTable {
  return {
    run_id: s.runId,
    step_id: s.stepId,
    host: s.host,
    status: s.status,
    attempts: s.attempts,
    exit_code: s.exitCode,
    stdout: storableText(s.stdout),
    stderr: storableText(s.stderr),
    error: storableText(s.error),
    started_at: s.startedAt,
    finished_at: s.finishedAt,
  };
}

export function stepResultFromRow(r: Selectable<StepResultsTable>): StepResultRecord {
  return {
    runId: r.run_id,
    stepId: r.step_id,
    host: r.host,
    status: r.status,
    attempts: r.attempts,
    exitCode: r.exit_code,
    stdout: r.stdout,
    stderr: r.stderr,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export function logToRow(log: Omit<LogRecord, "seq">, seq: number): LogsTable {
  return {
    run_id: log.runId,
    seq,
    at: log.at,
    level: log.level,
    step_id: log.stepId,
    host: log.host,
    message: storableText(log.message),
  };
}

export function logFromRow(r: Selectable<LogsTable>): LogRecord {
  return {
    runId: r.run_id,
    seq: r.seq,
    at: r.at,
    level: r.level,
    stepId: r.step_id,
    host: r.host,
    message: r.message,
  };
}

export function journalToRow(j: JournalRecord): JournalTable {
  return { run_id: j.runId, key: j.key, result_json: writeOptionalJson(j.result), created_at: j.createdAt };
}

export function journalFromRow(r: Selectable<JournalTable>): JournalRecord {
  return {
    runId: r.run_id,
    key: r.key,
    result: readOptionalJson(r.result_json, {
      table: "journal",
      column: "result_json",
      key: `${r.run_id}/${r.key}`,
    }),
    createdAt: r.created_at,
  };
}
