import { randomUUID } from "node:crypto";
import type {
  FlowRecord,
  FlowVersionRecord,
  PlanRecord,
  RunRecord,
  StepResultRecord,
} from "../../src/store/types";
import { checkAndRestartPlan, makePlan, makeStep } from "../helpers/plans";

/** Records with every field set to something distinctive, so a round trip that drops one shows. */

export const UNICODE = "nginx 🚀 перезапуск — 日本語 «quotes» \"double\" 'single' \\ back\nslash\ttab";

export function planRecord(overrides: Partial<PlanRecord> = {}): PlanRecord {
  return {
    id: randomUUID(),
    plan: makePlan([makeStep("say_hello", { action: { kind: "log", message: UNICODE }, targets: null })], {
      intent: UNICODE,
    }),
    origin: "intent",
    planner: "ollama:llama3.1",
    createdAt: "2025-01-02T03:04:05.678Z",
    ...overrides,
  };
}

export function flowRecord(overrides: Partial<FlowRecord> = {}): FlowRecord {
  return { id: randomUUID(), name: `check ${UNICODE}`, createdAt: "2025-01-02T03:04:05.678Z", ...overrides };
}

export function versionRecord(
  plan: PlanRecord,
  flow: FlowRecord,
  overrides: Partial<FlowVersionRecord> = {},
): FlowVersionRecord {
  return {
    flowId: flow.id,
    version: 1,
    planId: plan.id,
    engine: "flow",
    status: "pending",
    targets: { check_nginx: ["web1", "web2"], say_hello: [] },
    route: { score: 42.5, level: "moderate", factors: { steps: 10 }, reason: UNICODE },
    source: `// ${UNICODE}\nexport default 1;\n`,
    diagnostics: [{ code: 2322, message: UNICODE, line: 3, column: 7, severity: "warning" }],
    bundle: "var a=1;",
    sourceMap: '{"version":3,"mappings":""}',
    hash: "a".repeat(64),
    readOnly: true,
    createdAt: "2025-01-02T03:04:05.678Z",
    createdBy: "alice",
    approvedBy: null,
    approvedAt: null,
    approvedHash: null,
    comment: null,
    ...overrides,
  };
}

/** A plan, its new flow and version 1, ready for saveVersion. */
export function newFlow(versionOverrides: Partial<FlowVersionRecord> = {}) {
  const plan = planRecord({ plan: checkAndRestartPlan() });
  const flow = flowRecord();
  return { plan, flow, version: versionRecord(plan, flow, versionOverrides) };
}

export function runRecord(version: FlowVersionRecord, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: randomUUID(),
    flowId: version.flowId,
    version: version.version,
    engine: version.engine,
    status: "queued",
    params: { hosts: ["web1", "web2"], note: UNICODE, nested: { n: 1, ok: true, none: null } },
    hash: version.hash,
    error: null,
    createdAt: "2025-01-02T03:04:05.678Z",
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

export function stepResult(runId: string, overrides: Partial<StepResultRecord> = {}): StepResultRecord {
  return {
    runId,
    stepId: "check_nginx",
    host: "web1",
    status: "running",
    attempts: 1,
    exitCode: null,
    stdout: "",
    stderr: "",
    error: null,
    startedAt: "2025-01-02T03:04:06.000Z",
    finishedAt: null,
    ...overrides,
  };
}
