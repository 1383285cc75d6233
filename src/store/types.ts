/**
 * The store's contract, named by intent. One implementation (kysely) serves SQLite and
 * PostgreSQL; callers never see SQL. JSON-shaped fields are parsed objects here.
 */
import type { Plan } from "../plan/schema";
import type { ChatMessageRecord, ChatSessionPatch, ChatSessionRecord } from "./chat";

export type { ChatMessageRecord, ChatSessionPatch, ChatSessionRecord } from "./chat";
import type { LibraryEntryRecord, LibraryStats } from "./library";
export type { LibraryEntryRecord, LibraryParam, LibraryStats } from "./library";

export type Engine = "queue" | "flow";
export type VersionStatus = "pending" | "approved" | "rejected";
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "timed_out";
export type StepStatus =
  "pending" | "running" | "succeeded" | "failed" | "skipped" | "cancelled" | "timed_out";

export type Diagnostic = {
  code: number | string;
  message: string;
  line: number;
  column: number;
  severity: "error" | "warning";
};

export type PlanRecord = {
  id: string;
  plan: Plan;
  /** How the plan arrived. */
  origin: "intent" | "plan" | "legacy";
  /** Which planner made it ("offline", "ollama:llama3.1", ...), null for imported plans. */
  planner: string | null;
  createdAt: string;
};

export type FlowRecord = { id: string; name: string; createdAt: string };

export type FlowVersionRecord = {
  flowId: string;
  version: number;
  planId: string;
  engine: Engine;
  status: VersionStatus;
  /** Host names each step's selectors resolved to when the version was made: approval covers exactly these. */
  targets: Record<string, string[]>;
  /** Route decision (score, level, factors, reason) as returned by route(). */
  route: unknown;
  /** TypeScript source (flow engine only). */
  source: string | null;
  diagnostics: Diagnostic[];
  /** Bundled script and its source map (flow engine only). */
  bundle: string | null;
  sourceMap: string | null;
  /** sha256 of what runs: the bundle for the flow engine, the canonical plan JSON for the queue engine. */
  hash: string;
  readOnly: boolean;
  createdAt: string;
  createdBy: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  approvedHash: string | null;
  comment: string | null;
};

export type RunRecord = {
  id: string;
  flowId: string;
  version: number;
  engine: Engine;
  status: RunStatus;
  params: Record<string, unknown>;
  /** The hash the run was started with; the engine re-checks it before executing. */
  hash: string;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

export type StepResultRecord = {
  runId: string;
  stepId: string;
  /** "" for steps that have no host (log, sleep, notify). */
  host: string;
  status: StepStatus;
  attempts: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
};

export type LogRecord = {
  runId: string;
  seq: number;
  at: string;
  level: "debug" | "info" | "warn" | "error";
  stepId: string | null;
  host: string | null;
  message: string;
};

export type StepAttemptRecord = {
  runId: string;
  stepId: string;
  host: string;
  attempt: number;
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
};

export type ApprovalRecord = {
  flowId: string;
  version: number;
  decision: "approved" | "rejected";
  actor: string;
  hash: string;
  comment: string | null;
  at: string;
};

/** What a cancel request did: finished a run nobody had started, flagged a running one, or found nothing to cancel. */
export type CancelOutcome = "cancelled" | "requested" | "finished" | "not_found";

export type JournalRecord = { runId: string; key: string; result: unknown; createdAt: string };

/** Who did what to which subject ("flow:<id>@<v>", "run:<id>", "schedule:<id>"), and the details. */
export type AuditRecord = {
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
};

export type ScheduleRecord = {
  id: string;
  flowId: string;
  version: number;
  /** cron: a cron expression; interval: milliseconds; once: an ISO time. */
  kind: "cron" | "interval" | "once";
  spec: string;
  params: Record<string, unknown>;
  enabled: boolean;
  nextRunAt: string | null;
  lastRunId: string | null;
  lastRunAt: string | null;
  createdBy: string | null;
  createdAt: string;
};

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Runs pending migrations; safe to call at every start. */
  migrate(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;

  /** Writes plan, flow (when new) and version in one transaction: all or nothing. */
  saveVersion(input: { plan: PlanRecord; flow: FlowRecord; version: FlowVersionRecord }): Promise<void>;
  getPlan(id: string): Promise<PlanRecord | undefined>;
  getFlow(id: string): Promise<FlowRecord | undefined>;
  getVersion(flowId: string, version: number): Promise<FlowVersionRecord | undefined>;
  latestVersion(flowId: string): Promise<FlowVersionRecord | undefined>;
  /** Versions matching the filter, newest first (whole records, bundles included). */
  listVersions(filter?: { flowId?: string; status?: VersionStatus }): Promise<FlowVersionRecord[]>;
  /** Sets status approved with who/when/hash only if the version is still pending; returns the result or undefined. */
  approveVersion(
    flowId: string,
    version: number,
    approval: { by: string; at: string; hash: string; comment: string | null },
  ): Promise<FlowVersionRecord | undefined>;

  insertRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  updateRun(
    id: string,
    patch: Partial<Pick<RunRecord, "status" | "error" | "startedAt" | "finishedAt">>,
  ): Promise<void>;
  /** Runs left queued or running, e.g. by a crash: candidates for resume. */
  unfinishedRuns(): Promise<RunRecord[]>;
  /** Runs matching the filter, newest first; at most `limit` (default 100). */
  listRuns(filter?: { flowId?: string; status?: RunStatus; limit?: number }): Promise<RunRecord[]>;

  /**
   * Takes the run for `owner` until now + leaseMs, if it is unfinished and nobody else holds
   * a live claim: of racing processes exactly one gets true. Renewing one's own claim is allowed.
   */
  claimRun(runId: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Extends the owner's claim; `held` false if it was lost. `cancelRequested` once requestCancel ran. */
  heartbeatRun(
    runId: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }>;
  /** Gives the claim up (the run finished, or the process is stopping). */
  releaseRun(runId: string, owner: string): Promise<void>;
  /** Unfinished runs that no live claim covers: never claimed, or their owner stopped renewing. */
  claimableRuns(): Promise<RunRecord[]>;
  /** A queued run nobody holds is cancelled at once; a running one is flagged for its owner. */
  requestCancel(runId: string): Promise<CancelOutcome>;

  /** Whether a cancel was asked for (cheap; polled by running jobs in any process). */
  cancelRequested(runId: string): Promise<boolean>;

  /** Insert or replace one attempt of a (step × host). */
  putAttempt(attempt: StepAttemptRecord): Promise<void>;
  attempts(runId: string): Promise<StepAttemptRecord[]>;
  /** Approval decisions for a version, oldest first (approveVersion records them). */
  approvals(flowId: string, version: number): Promise<ApprovalRecord[]>;

  /** Insert or replace the (runId, stepId, host) row. */
  putStepResult(result: StepResultRecord): Promise<void>;
  /** Several putStepResult in one transaction (in order): one commit for a burst of step events. */
  putStepResults(results: readonly StepResultRecord[]): Promise<void>;
  stepResults(runId: string): Promise<StepResultRecord[]>;

  appendLog(log: Omit<LogRecord, "seq">): Promise<void>;
  logs(runId: string): Promise<LogRecord[]>;

  /** A completed capability call's recorded result, if any. */
  getJournal(runId: string, key: string): Promise<JournalRecord | undefined>;
  /** Records a completed call; a second put for the same key keeps the first. */
  putJournal(entry: JournalRecord): Promise<void>;

  /** Sets status rejected (reason in comment) only if still pending, recording the decision. */
  rejectVersion(
    flowId: string,
    version: number,
    rejection: { by: string; at: string; reason: string },
  ): Promise<FlowVersionRecord | undefined>;
  appendAudit(entry: Omit<AuditRecord, "id">): Promise<AuditRecord>;
  /** Newest first. */
  listAudit(filter?: {
    subject?: string;
    action?: string;
    actor?: string;
    limit?: number;
  }): Promise<AuditRecord[]>;
  countRunsByStatus(): Promise<Partial<Record<RunStatus, number>>>;

  createSchedule(schedule: ScheduleRecord): Promise<void>;
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(filter?: { flowId?: string }): Promise<ScheduleRecord[]>;
  setScheduleEnabled(id: string, enabled: boolean, nextRunAt: string | null): Promise<boolean>;
  deleteSchedule(id: string): Promise<boolean>;
  /** Enabled schedules whose next run time has come, oldest first. */
  dueSchedules(now: string): Promise<ScheduleRecord[]>;
  /** Advances a due schedule if it is still due at `expected`: exactly one of racing processes wins. */
  claimSchedule(
    id: string,
    expected: string,
    next: { nextRunAt: string | null; enabled: boolean; at: string },
  ): Promise<boolean>;
  recordScheduledRun(id: string, runId: string): Promise<void>;

  /** Chat: a conversation that refines one flow (src/store/chat.ts). */
  createChatSession(session: ChatSessionRecord): Promise<void>;
  getChatSession(id: string): Promise<ChatSessionRecord | undefined>;
  updateChatSession(id: string, patch: ChatSessionPatch): Promise<void>;
  /** Appends with the session's next sequence number. */
  appendChatMessage(message: Omit<ChatMessageRecord, "seq">): Promise<ChatMessageRecord>;
  /** Oldest first. */
  chatMessages(sessionId: string): Promise<ChatMessageRecord[]>;

  /** Flow library: approved versions promoted to reusable runbooks (src/store/library.ts). */
  promoteLibraryEntry(entry: LibraryEntryRecord): Promise<void>;
  /** Oldest first. */
  listLibraryEntries(): Promise<LibraryEntryRecord[]>;
  getLibraryEntry(id: string): Promise<LibraryEntryRecord | undefined>;
  /** Runs, success rate and median duration of a library entry's version. */
  libraryStats(flowId: string, version: number): Promise<LibraryStats>;
}
