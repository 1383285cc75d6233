import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Hono } from "hono";
import { z } from "zod";
import { authenticate } from "../api/auth";
import type { Env } from "../api/endpoint";
import { ApiError, toApiError } from "../api/errors";
import { rateLimit } from "../api/rate-limit";
import { versionView } from "../api/routes/flows";
import {
  EnginePreference,
  FlowParams,
  IntentBody,
  RunBody,
  RunDetail,
  RunParams,
  RunQueued,
  VersionCreated,
  VersionNo,
  VersionView,
} from "../api/schemas";
import { versionFromIntent } from "../pipeline";
import type { Actor } from "../review/approve";
import type { Intentflow } from "../service";
import { chatTurn, flowView, readRun, refineFlow, startApprovedRun } from "./chat";
import { ChatBody, ChatFlowView, ChatReply } from "./schemas";

/**
 * The MCP door: the same verbs as the REST API, as tools an AI assistant can call over
 * Streamable HTTP at /mcp (stateless: a server per request). Inputs and outputs are the API's
 * zod schemas. No tool approves: approval stays with people, through the API or the review UI.
 */

const MAX_BODY_BYTES = 1024 * 1024;

export const MCP_TOOLS = ["plan_intent", "refine_plan", "show_flow", "run_flow", "read_run", "chat"] as const;

export const RefineInput = z
  .object({
    flowId: FlowParams.shape.id,
    message: ChatBody.shape.message,
    engine: EnginePreference.default("auto"),
  })
  .strict();
export const ShowFlowInput = z.object({ id: FlowParams.shape.id, version: VersionNo.optional() }).strict();
export const ShowFlowOutput = z.object({
  version: VersionView,
  review: ChatFlowView.pick({ approvePath: true, reviewPage: true, diffPath: true }),
});
export const RunFlowInput = z.object({ id: FlowParams.shape.id, ...RunBody.shape }).strict();

type ToolResult = {
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/** Runs a tool, validating its answer with the output schema; domain errors become tool errors with their code. */
async function answer<T extends z.ZodType>(schema: T, fn: () => Promise<unknown>): Promise<ToolResult> {
  try {
    const out = schema.parse(await fn()) as Record<string, unknown>;
    return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
  } catch (error) {
    const e = toApiError(error);
    return {
      content: [{ type: "text", text: JSON.stringify({ error: { code: e.code, message: e.message } }) }],
      isError: true,
    };
  }
}

export function createMcpServer(svc: Intentflow, actor: Actor): McpServer {
  const server = new McpServer({ name: "intentflow", version: "0.1.0" });
  server.registerTool(
    "plan_intent",
    {
      description:
        "Plan an IT-operations intent in plain words, route it and compile it: a new flow version, pending review by a person (as POST /v1/intents)",
      inputSchema: IntentBody,
      outputSchema: VersionCreated,
    },
    (input) =>
      answer(VersionCreated, () =>
        versionFromIntent(svc.pipeline, input.text, { ...input, actor: actor.name }),
      ),
  );
  server.registerTool(
    "refine_plan",
    {
      description:
        'Change a flow\'s plan in words ("also check disk", "only on web1", "no restart, just report"): the next version of the same flow, pending review',
      inputSchema: RefineInput,
      outputSchema: VersionCreated,
    },
    (input) =>
      answer(VersionCreated, () => refineFlow(svc, actor, input.flowId, input.message, input.engine)),
  );
  server.registerTool(
    "show_flow",
    {
      description:
        "A flow version (the latest unless given): its TypeScript source, status (pending, approved, rejected), route decision, and where a person approves it",
      inputSchema: ShowFlowInput,
      outputSchema: ShowFlowOutput,
      annotations: { readOnlyHint: true },
    },
    (input) =>
      answer(ShowFlowOutput, async () => {
        const v =
          input.version === undefined
            ? await svc.store.latestVersion(input.id)
            : await svc.store.getVersion(input.id, input.version);
        if (!v) throw notFound(`flow ${input.id} has no such version`);
        const { approvePath, reviewPage, diffPath } = flowView(v);
        return { version: versionView(v), review: { approvePath, reviewPage, diffPath } };
      }),
  );
  server.registerTool(
    "run_flow",
    {
      description:
        "Run an approved flow version (the latest unless given). Refused unless a person approved exactly that version",
      inputSchema: RunFlowInput,
      outputSchema: RunQueued,
    },
    (input) =>
      answer(RunQueued, async () => {
        const version = input.version ?? (await svc.store.latestVersion(input.id))?.version;
        if (!version) throw notFound(`no flow ${input.id}`);
        const run = await startApprovedRun(svc, actor, input.id, version, input.params, "mcp");
        return { run: { id: run.id, status: "queued", flowId: input.id, version, engine: run.engine } };
      }),
  );
  server.registerTool(
    "read_run",
    {
      description: "A run: status, and per step and host its status, exit code and output; its logs",
      inputSchema: RunParams,
      outputSchema: RunDetail,
      annotations: { readOnlyHint: true },
    },
    (input) =>
      answer(RunDetail, async () => ({
        ...(await readRun(svc, input.id)),
        logs: await svc.store.logs(input.id),
      })),
  );
  server.registerTool(
    "chat",
    {
      description:
        "One turn of a conversation about a flow (as POST /v1/chat): plan, refine, ask its status, run it once approved, ask how the run went",
      inputSchema: ChatBody,
      outputSchema: ChatReply,
    },
    (input) => answer(ChatReply, () => chatTurn(svc, actor, input)),
  );
  return server;
}

function notFound(message: string): ApiError {
  return new ApiError(404, "not_found", message);
}

/** POST /mcp (and GET/DELETE, which a stateless server answers 405): authenticated like /v1. */
export function mountMcp(app: Hono<Env>, svc: Intentflow): void {
  app.use("/mcp", authenticate(svc.config.apiKeys));
  app.use("/mcp", rateLimit(svc.config.rateLimitPerMinute));
  app.all("/mcp", async (c) => {
    const server = createMcpServer(svc, c.get("actor"));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      maxRequestBodySize: MAX_BODY_BYTES,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      // With JSON responses the answer is complete once handleRequest resolves.
      void server.close();
    }
  });
}
