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
  /** The process executing the run (claimRun), and until when its claim holds (epoch ms; bigint, so a string on PostgreSQL). */
  owner: string | null;
  lease_until: number | string | null;
  /** 1 once someone asked to cancel the run; the executing process sees it at its next heartbeat. */
  cancel_requested: number;
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

/** One row per try of a (step × host): the history behind step_results.attempts. */
export type StepAttemptsTable = {
  run_id: string;
  step_id: string;
  host: string;
  attempt: number;
  status: StepStatus;
  exit_code: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
};

/** Approval decisions, newest last (flow_versions keeps the current one). */
export type ApprovalsTable = {
  id: string;
  flow_id: string;
  version: number;
  decision: "approved" | "rejected";
  actor: string;
  hash: string;
  comment: string | null;
  at: string;
};

/** Recurring runs of an approved version (cron expression, croner syntax). */
export type SchedulesTable = {
  id: string;
  flow_id: string;
  version: number;
  cron: string;
  params_json: string;
  enabled: number;
  next_run_at: string | null;
  last_run_id: string | null;
  created_at: string;
  /** From migration 0003: "cron" | "interval" | "once"; `cron` holds the spec of each kind. */
  kind: string;
  last_run_at: string | null;
  created_by: string | null;
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
  step_attempts: StepAttemptsTable;
  approvals: ApprovalsTable;
  schedules: SchedulesTable;
};
