import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { ApiError } from "../api/errors";
import { RunRefused } from "../engines/runs";
import { UnknownHostError } from "../inventory/types";
import { PipelineError, type VersionResult, versionFromIntent, versionFromRefinedPlan } from "../pipeline";
import { planOffline } from "../plan/offline";
import { refineOffline } from "../plan/offline/refine";
import { type PlannedResult, PlanningError } from "../plan/provider";
import type { Plan } from "../plan/schema";
import type { Actor } from "../review/approve";
import { RouteError } from "../route";
import type { Intentflow } from "../service";
import { StoreConflictError } from "../store/errors";
import type { ChatSessionRecord, FlowVersionRecord, RunRecord } from "../store/types";
import * as say from "./reply";
import type { ChatFlowView, ChatHistory, ChatReply } from "./schemas";
import { understand } from "./understand";

/**
 * A conversation that makes and refines one flow. Every action goes through the functions the
 * REST API uses (versionFromIntent, versionFromRefinedPlan, Runs.start, the store); the words
 * of the answer are composed here from their structured results (src/chat/reply.ts), never
 * taken from an LLM, so neither a prompt nor a secret can reach the operator through them.
 */

export type ChatReplyBody = z.infer<typeof ChatReply>;
type FlowView = z.infer<typeof ChatFlowView>;

export async function chatTurn(
  svc: Intentflow,
  actor: Actor,
  input: { sessionId?: string | undefined; message: string },
): Promise<ChatReplyBody> {
  const session = await openSession(svc, actor, input.sessionId);
  const now = new Date().toISOString();
  await svc.store.appendChatMessage({
    sessionId: session.id,
    role: "user",
    text: input.message,
    at: now,
    detail: null,
  });
  let answer: ChatReplyBody;
  try {
    answer = await respond(svc, actor, session, input.message);
  } catch (error) {
    answer = failed(session, error, svc);
  }
  await svc.store.appendChatMessage({
    sessionId: session.id,
    role: "assistant",
    text: answer.reply,
    at: new Date().toISOString(),
    detail: {
      kind: answer.kind,
      flow: answer.flow
        ? { id: answer.flow.id, version: answer.flow.version, status: answer.flow.status }
        : null,
      run: answer.run ? { id: answer.run.run.id, status: answer.run.run.status } : null,
      changes: answer.changes,
      error: answer.error,
    },
  });
  return answer;
}

export async function chatHistory(svc: Intentflow, sessionId: string): Promise<z.infer<typeof ChatHistory>> {
  const session = await svc.store.getChatSession(sessionId);
  if (!session) throw new ApiError(404, "not_found", `no chat session ${sessionId}`);
  const messages = await svc.store.chatMessages(sessionId);
  return {
    session,
    messages: messages.map(({ seq, role, text, at, detail }) => ({ seq, role, text, at, detail })),
  };
}

async function openSession(
  svc: Intentflow,
  actor: Actor,
  id: string | undefined,
): Promise<ChatSessionRecord> {
  if (id) {
    const found = await svc.store.getChatSession(id);
    if (!found) throw new ApiError(404, "not_found", `no chat session ${id}`, "sessionId");
    return found;
  }
  const now = new Date().toISOString();
  const session: ChatSessionRecord = {
    id: randomUUID(),
    flowId: null,
    version: null,
    runId: null,
    engine: "auto",
    runParams: null,
    createdBy: actor.name,
    createdAt: now,
    updatedAt: now,
  };
  await svc.store.createChatSession(session);
  return session;
}

function base(session: ChatSessionRecord): Omit<ChatReplyBody, "kind" | "reply"> {
  return { sessionId: session.id, plan: null, route: null, flow: null, changes: [], run: null, error: null };
}

async function respond(
  svc: Intentflow,
  actor: Actor,
  session: ChatSessionRecord,
  message: string,
): Promise<ChatReplyBody> {
  const asked = understand(message);
  // The version this conversation was last shown: another person's new version of the same
  // flow (a refinement over REST, a library answer for other hosts) is not what "run it" means.
  const current = !session.flowId
    ? undefined
    : session.version !== null
      ? await svc.store.getVersion(session.flowId, session.version)
      : await svc.store.latestVersion(session.flowId);
  const touch = (patch: Parameters<Intentflow["store"]["updateChatSession"]>[1]) =>
    svc.store.updateChatSession(session.id, { ...patch, updatedAt: new Date().toISOString() });

  switch (asked.kind) {
    case "disclose":
      return {
        ...base(session),
        ...(await currentState(svc, current)),
        kind: "disclosure_refused",
        reply: say.disclosureRefused(),
      };
    case "approve":
      return {
        ...base(session),
        ...(await currentState(svc, current)),
        kind: "approval_refused",
        reply: say.approvalRefused(current && flowView(current)),
      };
    case "status":
      if (!current) return { ...base(session), kind: "status", reply: say.nothingYet() };
      return {
        ...base(session),
        ...(await currentState(svc, current)),
        kind: "status",
        reply: say.status(flowView(current)),
      };
    case "run_question": {
      // The run this conversation started; else the flow's latest (started over REST, MCP or a schedule).
      const runId =
        session.runId ??
        (session.flowId
          ? (await svc.store.listRuns({ flowId: session.flowId, limit: 1 }))[0]?.id
          : undefined);
      if (!runId)
        return {
          ...base(session),
          ...(await currentState(svc, current)),
          kind: "run_report",
          reply: say.noRunYet(current && flowView(current)),
        };
      const run = await readRun(svc, runId);
      return {
        ...base(session),
        ...(await currentState(svc, current)),
        kind: "run_report",
        run,
        reply: say.runReport(run),
      };
    }
    case "run": {
      if (!current)
        return {
          ...base(session),
          kind: "run_refused",
          reply: say.nothingYet(),
          error: { code: "not_found" },
        };
      const view = flowView(current);
      const state = await currentState(svc, current);
      if (asked.extra)
        return {
          ...base(session),
          ...state,
          kind: "run_refused",
          reply: say.runTakesNoInstructions(view),
          error: { code: "not_run" },
        };
      if (current.status !== "approved")
        return {
          ...base(session),
          ...state,
          kind: "run_refused",
          reply: say.awaitsApproval(view),
          error: { code: "not_approved" },
        };
      // A library flow answered with params read from the message ("check redis on web1") runs
      // with them, as POST /v1/intents?execute=true would.
      const started = await startApprovedRun(
        svc,
        actor,
        current.flowId,
        current.version,
        session.runParams ?? {},
        "chat",
      );
      await touch({ runId: started.id });
      const run = await readRun(svc, started.id);
      return { ...base(session), ...state, kind: "run_started", run, reply: say.runStarted(view, started) };
    }
    case "engine": {
      if (!current)
        return { ...base(session), kind: "failed", reply: say.nothingYet(), error: { code: "not_found" } };
      const plan = await planOf(svc, current);
      const result = await versionFromRefinedPlan(
        svc.pipeline,
        current.flowId,
        { plan, origin: "intent", planner: null, warnings: [] },
        { engine: asked.engine, force: true, actor: actor.name },
      );
      await touch({ engine: asked.engine, version: result.flow.version });
      return versionAnswer(svc, session, "engine_changed", result, plan);
    }
    case "change": {
      if (!current) {
        const result = await versionFromIntent(svc.pipeline, message, {
          engine: session.engine,
          force: session.engine !== "auto",
          actor: actor.name,
        });
        const runParams = result.library?.params ?? null;
        await touch({ flowId: result.flow.id, version: result.flow.version, runParams });
        return versionAnswer(svc, { ...session, flowId: result.flow.id, runParams }, "planned", result, null);
      }
      const before = await planOf(svc, current);
      const result = await refineFlow(svc, actor, current.flowId, message, session.engine, current);
      await touch({ version: result.flow.version });
      return versionAnswer(svc, session, "refined", result, before, current);
    }
  }
}

/**
 * The next version of a flow with its plan changed as asked: the planner's `refine` (the
 * repair loop for LLMs), or the offline rules when it has none. Shared by chat and MCP.
 */
export async function refineFlow(
  svc: Intentflow,
  actor: Actor,
  flowId: string,
  message: string,
  engine: "auto" | "queue" | "flow" = "auto",
  /** The version whose plan is changed; the flow's latest when not given. */
  from?: FlowVersionRecord,
): Promise<VersionResult> {
  const base = from ?? (await svc.store.latestVersion(flowId));
  if (!base) throw new PipelineError("not_found", `no flow ${flowId}`);
  const plan = await planOf(svc, base);
  const ctx = {
    inventory: svc.inventory.describe(),
    ...(svc.pipeline.commandPolicy ? { commandPolicy: svc.pipeline.commandPolicy } : {}),
  };
  const planner = svc.pipeline.planner;
  const refined: PlannedResult = planner.refine
    ? await planner.refine(plan, message, ctx)
    : {
        plan: refineOffline(plan, message, ctx.inventory, planOffline, ctx.commandPolicy),
        provider: "offline-rules",
        attempts: 0,
      };
  return versionFromRefinedPlan(
    svc.pipeline,
    flowId,
    { plan: refined.plan, origin: "intent", planner: refined.provider, warnings: [] },
    { engine, force: engine !== "auto", actor: actor.name },
  );
}

/** Runs.start, audited like POST /v1/flows/{id}/runs; refused unless the version is approved. */
export async function startApprovedRun(
  svc: Intentflow,
  actor: Actor,
  flowId: string,
  version: number,
  params: Record<string, unknown> | undefined,
  via: "chat" | "mcp",
): Promise<RunRecord> {
  const run = await svc.runs.start(flowId, version, params, { actor: actor.name, via });
  svc.log.info({ run: run.id, flow: flowId, version, actor: actor.name, via }, "run queued");
  return run;
}

export async function readRun(svc: Intentflow, runId: string) {
  const run = await svc.store.getRun(runId);
  if (!run) throw new ApiError(404, "not_found", `no run ${runId}`);
  return { run, steps: await svc.store.stepResults(runId) };
}

async function planOf(svc: Intentflow, v: FlowVersionRecord): Promise<Plan> {
  const p = await svc.store.getPlan(v.planId);
  if (!p) throw new PipelineError("not_found", `plan ${v.planId} of flow ${v.flowId} is missing`);
  return p.plan;
}

export function flowView(v: FlowVersionRecord): FlowView {
  const at = `/v1/flows/${v.flowId}/versions/${v.version}`;
  return {
    id: v.flowId,
    version: v.version,
    status: v.status,
    engine: v.engine,
    readOnly: v.readOnly,
    hash: v.hash,
    source: v.source,
    approvePath: `${at}/approve`,
    reviewPage: `/ui/flows/${v.flowId}/versions/${v.version}`,
    diffPath: `${at}/diff`,
  };
}

async function currentState(svc: Intentflow, v: FlowVersionRecord | undefined) {
  if (!v) return {};
  return { plan: await planOf(svc, v), route: v.route as ChatReplyBody["route"], flow: flowView(v) };
}

async function versionAnswer(
  svc: Intentflow,
  session: ChatSessionRecord,
  kind: "planned" | "refined" | "engine_changed",
  result: VersionResult,
  before: Plan | null,
  /** The version `before` is the plan of, when not the one just before the new version. */
  from?: FlowVersionRecord,
): Promise<ChatReplyBody> {
  const v = await svc.store.getVersion(result.flow.id, result.flow.version);
  if (!v)
    throw new PipelineError("not_found", `flow ${result.flow.id} has no version ${result.flow.version}`);
  const previous =
    from ?? (before && v.version > 1 ? await svc.store.getVersion(v.flowId, v.version - 1) : undefined);
  const changes = before ? say.planChanges(before, result.plan, previous?.targets ?? {}, v.targets) : [];
  const view = flowView(v);
  return {
    ...base(session),
    kind,
    plan: result.plan,
    route: result.route,
    flow: view,
    changes,
    reply: [
      result.library ? say.libraryReuse(result.library) : "",
      say.version(kind, view, result.plan, v.targets, result.route, changes, previous?.version),
    ]
      .filter(Boolean)
      .join(" "),
  };
}

/** A refusal or failure, in our words: the error's code picks the sentence; no foreign text is echoed. */
function failed(session: ChatSessionRecord, error: unknown, svc: Intentflow): ChatReplyBody {
  if (error instanceof StoreConflictError)
    return {
      ...base(session),
      kind: "failed",
      reply: say.failure("conflict", error, svc.inventory.describe()),
      error: { code: "conflict" },
    };
  const known =
    error instanceof PlanningError ||
    error instanceof PipelineError ||
    error instanceof RouteError ||
    error instanceof RunRefused ||
    error instanceof UnknownHostError;
  if (!known) {
    if (error instanceof ApiError) throw error;
    svc.log.error({ err: error, session: session.id }, "chat turn failed");
  }
  const code =
    error instanceof UnknownHostError
      ? "unknown_host"
      : known
        ? (error as { code: string }).code
        : "internal";
  return {
    ...base(session),
    kind: "failed",
    reply: say.failure(code, error, svc.inventory.describe()),
    error: { code },
  };
}
