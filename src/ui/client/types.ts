/** The API's shapes as the pages read them (see GET /openapi.json). */

export type Role = "requester" | "reviewer" | "admin";
export type Me = { name: string; role: Role };

export type Diagnostic = {
  code: string | number;
  message: string;
  line: number | null;
  column: number | null;
  severity: string;
};
export type Factor = { score: number; weight: number; why: string };
export type Route = {
  engine: string;
  score: number;
  level: string;
  factors: Record<string, Factor>;
  flowOnly?: string[];
  reason: string;
};

export type VersionView = {
  flowId: string;
  version: number;
  planId: string;
  engine: string;
  status: "pending" | "approved" | "rejected";
  targets: Record<string, string[]>;
  route: Route | null;
  source: string | null;
  diagnostics: Diagnostic[];
  hash: string;
  readOnly: boolean;
  createdAt: string;
  createdBy: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  comment: string | null;
};

export type Condition = { step: string; field: string; op: string; value: unknown; perHost?: boolean };
export type Action = { kind: string; [k: string]: unknown };
export type Step = {
  id: string;
  name: string;
  description: string | null;
  action: Action;
  targets: string[] | null;
  dependsOn: string[];
  when: Condition | null;
  until: { field: string; op: string; value: unknown } | null;
  retry: { attempts?: number; maxAttempts?: number } | null;
  timeoutMs: number | null;
  concurrency: number | null;
  onError: { mode: string; steps: string[] | null } | null;
  trigger: string;
};
export type Plan = { title: string; intent: string; steps: Step[] };

export type RunView = {
  id: string;
  flowId: string;
  version: number;
  engine: string;
  status: string;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};
export type StepRow = {
  stepId: string;
  host: string;
  status: string;
  attempts: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
};
export type LogRow = {
  seq: number;
  at: string;
  level: string;
  stepId: string | null;
  host: string | null;
  message: string;
};
export type RunDetail = { run: RunView; steps: StepRow[]; logs: LogRow[] };
