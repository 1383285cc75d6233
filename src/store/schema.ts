import type { Engine, LogRecord, PlanRecord, RunStatus, StepStatus, VersionStatus } from "./types";

/**
 * Table shapes as kysely sees them. Portable across SQLite and PostgreSQL on purpose:
 * JSON is text, timestamps are ISO-8601 text, booleans are 0/1 integers. Columns named
 * `*_json` hold JSON text; the mapping to records lives in records.ts.
 */

export type PlansTable = {
  id: string;
  plan_json: string;
  origin: PlanRecord["origin"];
  planner: string | null;
  created_at: string;
};

export type FlowsTable = {
  id: string;
  name: string;
  created_at: string;
};

export type FlowVersionsTable = {
  flow_id: string;
  version: number;
  plan_id: string;
  engine: Engine;
  status: VersionStatus;
  targets_json: string;
  /** null when the version carries no route decision. */
  route_json: string | null;
  source: string | null;
  diagnostics_json: string;
  bundle: string | null;
  source_map: string | null;
  hash: string;
  read_only: number;
  created_at: string;
  created_by: string | null;
  approved_by: string | null;
  approved_at: string | null;
  approved_hash: string | null;
  comment: string | null;
};

export type RunsTable = {
  id: string;
  flow_id: string;
  version: number;
  engine: Engine;
  status: RunStatus;
  params_json: string;
  hash: string;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Last log seq handed out for this run: the per-run counter appendLog increments. */
  last_log_seq: number;
};

export type StepResultsTable = {
  run_id: string;
  step_id: string;
  host: string;
  status: StepStatus;
  attempts: number;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
};

export type LogsTable = {
  run_id: string;
  seq: number;
  at: string;
  level: LogRecord["level"];
  step_id: string | null;
  host: string | null;
  message: string;
};

export type JournalTable = {
  run_id: string;
  key: string;
  /** null when the recorded result was `undefined` (JSON has no such value). */
  result_json: string | null;
  created_at: string;
};

/** Who did what to which thing: approvals, rejections, edits. Written by later features. */
export type AuditTable = {
  id: string;
  at: string;
  actor: string;
  action: string;
  /** What the action was about, e.g. "flow:<id>@<version>" or "run:<id>". */
  subject: string;
  detail_json: string;
};

export type Database = {
  plans: PlansTable;
  flows: FlowsTable;
  flow_versions: FlowVersionsTable;
  runs: RunsTable;
  step_results: StepResultsTable;
  logs: LogsTable;
  journal: JournalTable;
  audit: AuditTable;
};
