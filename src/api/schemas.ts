import { z } from "zod";
import { PlanBody } from "../plan/schema";

/**
 * Every route's input and output, as zod schemas: handlers parse with them, and the OpenAPI
 * document is generated from them, so the two cannot drift apart.
 */

export const Id = z.uuid({ message: "must be an id as returned by the API" });
export const VersionNo = z.coerce.number().int().min(1).max(1_000_000);
export const FlowParams = z.object({ id: Id }).strict();
export const FlowVersionParams = z.object({ id: Id, version: VersionNo }).strict();
export const RunParams = z.object({ id: Id }).strict();

export const EnginePreference = z.enum(["auto", "queue", "flow"]);
export const IntentBody = z
  .object({
    text: z.string().trim().min(1, "must not be empty").max(4000),
    engine: EnginePreference.default("auto"),
    force: z.boolean().default(false),
  })
  .strict();
export const IntentQuery = z.object({ execute: z.enum(["true", "false"]).default("false") }).strict();
export const PlanQuery = z
  .object({ engine: EnginePreference.default("auto"), force: z.enum(["true", "false"]).default("false") })
  .strict();
export const ApproveBody = z.object({ comment: z.string().max(2000).nullable().default(null) }).strict();
export const RunBody = z
  .object({
    version: z.number().int().min(1).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export const EditBody = z
  .object({
    source: z.string().min(1).max(500_000),
    /** The version the edit starts from; defaults to the latest. */
    base: z.number().int().min(1).optional(),
  })
  .strict();
const Page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
};
export const RunListQuery = z
  .object({
    status: z.enum(["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]).optional(),
    flowId: Id.optional(),
    ...Page,
  })
  .strict();
export const VersionListQuery = z
  .object({ status: z.enum(["pending", "approved", "rejected"]).optional(), ...Page })
  .strict();

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    details: z.unknown().optional(),
  }),
});

const Diagnostic = z.object({
  code: z.union([z.number(), z.string()]),
  message: z.string(),
  line: z.number(),
  column: z.number(),
  severity: z.enum(["error", "warning"]),
});

export const RouteDecision = z.object({
  engine: z.enum(["queue", "flow"]),
  score: z.number(),
  level: z.enum(["simple", "moderate", "complex", "advanced"]),
  factors: z.record(z.string(), z.object({ score: z.number(), weight: z.number(), why: z.string() })),
  flowOnly: z.array(z.string()),
  reason: z.string(),
});

export const VersionStatus = z.enum(["pending", "approved", "rejected"]);

export const VersionCreated = z.object({
  plan: PlanBody,
  route: RouteDecision,
  flow: z.object({
    id: Id,
    version: z.number().int(),
    status: VersionStatus,
    engine: z.enum(["queue", "flow"]),
    readOnly: z.boolean(),
    hash: z.string(),
    source: z.string().optional(),
    diagnostics: z.array(Diagnostic).optional(),
  }),
  planner: z.string().nullable(),
  warnings: z.array(z.string()),
  timings: z.record(z.string(), z.number()),
  /** Set when the flow library answered instead of a planner (see README, Flow library). */
  library: z
    .object({
      entryId: Id,
      name: z.string(),
      flowId: Id,
      version: z.number().int(),
      score: z.number(),
      params: z.record(z.string(), z.unknown()),
      approval: z
        .enum(["carried_over", "required"])
        .describe(
          "carried_over: `flow` is approved library code (or that code on a subset of its hosts), ready to run; required: `flow` is a new version for wider hosts, pending review",
        ),
      widened: z
        .object({
          outside: z.array(z.string()),
          approvedHosts: z.array(z.string()),
          created: z.boolean(),
        })
        .optional(),
      narrowed: z
        .object({
          hosts: z.array(z.string()),
          approvedHosts: z.array(z.string()),
          created: z.boolean(),
        })
        .optional()
        .describe(
          "the intent named a strict subset of the approved hosts: `flow` is a version of the same flow for just those hosts, its approval carried over",
        ),
    })
    .optional(),
  /** With ?execute=true: the run started at once, when the policy auto-approved the version; else null. */
  run: z
    .object({ id: Id, status: z.literal("queued") })
    .nullable()
    .optional(),
});

/** A stored version as the API shows it: everything but the bundle and its source map. */
export const VersionView = z.object({
  flowId: Id,
  version: z.number().int(),
  planId: Id,
  engine: z.enum(["queue", "flow"]),
  status: VersionStatus,
  targets: z.record(z.string(), z.array(z.string())),
  route: z.unknown(),
  source: z.string().nullable(),
  diagnostics: z.array(Diagnostic),
  hash: z.string(),
  readOnly: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  approvedHash: z.string().nullable(),
  comment: z.string().nullable(),
});

export const RunView = z.object({
  id: Id,
  flowId: Id,
  version: z.number().int(),
  engine: z.enum(["queue", "flow"]),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]),
  params: z.record(z.string(), z.unknown()),
  hash: z.string(),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const StepResultView = z.object({
  runId: Id,
  stepId: z.string(),
  host: z.string(),
  status: z.enum(["pending", "running", "succeeded", "failed", "skipped", "cancelled", "timed_out"]),
  attempts: z.number().int(),
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  error: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const LogView = z.object({
  runId: Id,
  seq: z.number().int(),
  at: z.string(),
  level: z.enum(["debug", "info", "warn", "error"]),
  stepId: z.string().nullable(),
  host: z.string().nullable(),
  message: z.string(),
});

export const RunDetail = z.object({ run: RunView, steps: z.array(StepResultView), logs: z.array(LogView) });
export const RunQueued = z.object({
  run: z.object({
    id: Id,
    status: z.literal("queued"),
    flowId: Id,
    version: z.number().int(),
    engine: z.enum(["queue", "flow"]),
  }),
});
export const VersionDiff = z.object({
  flowId: Id,
  version: z.number().int(),
  against: z.number().int().nullable(),
  /** What is compared: the TypeScript source (flow engine) or the plan's JSON (queue engine). */
  kind: z.enum(["source", "plan"]),
  diff: z.string(),
});

export const RejectBody = z.object({ reason: z.string().trim().min(1, "say why").max(2000) }).strict();

export const AuditQuery = z
  .object({
    subject: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    actor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export const AuditView = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  detail: z.unknown(),
});

export const ScheduleBody = z
  .object({
    flowId: Id,
    /** Defaults to the flow's latest approved version. */
    version: z.number().int().min(1).optional(),
    cron: z.string().min(1).max(200).optional(),
    everyMs: z.number().int().min(1).optional(),
    at: z.string().max(40).optional(),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .refine((b) => [b.cron, b.everyMs, b.at].filter((x) => x !== undefined).length === 1, {
    message: "give exactly one of cron, everyMs or at",
    path: ["cron"],
  });
export const ScheduleParams = z.object({ id: Id }).strict();
export const ScheduleView = z.object({
  id: Id,
  flowId: Id,
  version: z.number().int(),
  kind: z.enum(["cron", "interval", "once"]),
  spec: z.string(),
  params: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  nextRunAt: z.string().nullable(),
  lastRunId: z.string().nullable(),
  lastRunAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
