import { z } from "zod";
import { EnginePreference, Id, RouteDecision, RunView, StepResultView, VersionStatus } from "../api/schemas";
import { PlanBody } from "../plan/schema";

/**
 * The chat's inputs and outputs, built from the API's own schemas (src/api/schemas.ts): the
 * REST route (POST /v1/chat) and the MCP tools validate and describe with these.
 */

export const ChatBody = z
  .object({
    /** Omit to start a conversation; the answer carries the id to continue it. */
    sessionId: Id.optional(),
    message: z.string().trim().min(1, "must not be empty").max(4000),
  })
  .strict();

export const ChatSessionParams = z.object({ sessionId: Id }).strict();

/** What a turn did, so a caller need not read the words. */
export const ChatTurnKind = z.enum([
  "planned",
  "refined",
  "engine_changed",
  "status",
  "run_started",
  "run_refused",
  "run_report",
  "approval_refused",
  "disclosure_refused",
  "failed",
]);

/** The flow version the conversation is at, and where a person reviews and approves it. */
export const ChatFlowView = z.object({
  id: Id,
  version: z.number().int(),
  status: VersionStatus,
  engine: z.enum(["queue", "flow"]),
  readOnly: z.boolean(),
  hash: z.string(),
  source: z.string().nullable(),
  /** Where a reviewer approves it (the API) and reviews it (the review UI), and its diff. */
  approvePath: z.string(),
  reviewPage: z.string(),
  diffPath: z.string(),
});

export const ChatRunView = z.object({
  run: RunView,
  steps: z.array(StepResultView),
});

export const ChatReply = z.object({
  sessionId: Id,
  kind: ChatTurnKind,
  /** The assistant's answer in words: composed by intentflow from the results below, never by the LLM. */
  reply: z.string(),
  plan: PlanBody.nullable(),
  route: RouteDecision.nullable(),
  flow: ChatFlowView.nullable(),
  /** What changed from the previous version, step by step (refinements). */
  changes: z.array(z.string()),
  run: ChatRunView.nullable(),
  /** A stable code when the turn was refused or failed (unknown_host, not_approved, …). */
  error: z.object({ code: z.string() }).nullable(),
});

export const ChatMessageView = z.object({
  seq: z.number().int(),
  role: z.enum(["user", "assistant"]),
  text: z.string(),
  at: z.string(),
  detail: z.unknown(),
});

export const ChatHistory = z.object({
  session: z.object({
    id: Id,
    flowId: Id.nullable(),
    runId: Id.nullable(),
    engine: EnginePreference,
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  messages: z.array(ChatMessageView),
});
