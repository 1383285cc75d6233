import { z } from "zod";
import { PlanBody } from "../../plan/schema";
import { PipelineError, versionFromIntent, versionFromPlanInput } from "../../pipeline";
import { ApiError } from "../errors";
import type { Intentflow } from "../../service";
import { endpoint } from "../endpoint";
import type { Metrics } from "../metrics";
import { IntentBody, IntentQuery, PlanQuery, VersionCreated } from "../schemas";

/** The legacy workflow format, documented here; parsePlanInput reads it with its own, clearer errors. */
const LegacyWorkflow = z.object({
  steps: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      type: z.enum(["ssh", "powershell", "network_analysis"]),
      host: z.string(),
      command: z.string().optional(),
      script: z.string().optional(),
      target: z.string().optional(),
      analysis_type: z.string().optional(),
      timeout: z.number().optional(),
    }),
  ),
});

export const intentEndpoints = (svc: Intentflow, metrics: Metrics) => [
  endpoint({
    method: "post",
    path: "/v1/intents",
    summary:
      "Plan an intent, route it, compile it: a new flow version pending review. With ?execute=true, a version the policy auto-approves (read-only) runs at once",
    tag: "pipeline",
    role: "requester",
    query: IntentQuery,
    body: IntentBody,
    responses: {
      201: { description: "the plan, the route decision and the flow version", schema: VersionCreated },
    },
    handle: async ({ query, body }, c) => {
      const actor = c.get("actor");
      const result = await versionFromIntent(svc.pipeline, body.text, {
        ...body,
        actor: actor.name,
      }).catch((e: unknown) => {
        // A library flow whose hosts are not a parameter, asked for on hosts outside its approved set.
        if (e instanceof PipelineError && e.code === "hosts_widened")
          throw new ApiError(409, e.code, e.message, e.field, e.details);
        throw e;
      });
      if (!result.library || result.library.widened?.created || result.library.narrowed?.created)
        metrics.versionCreated(result);
      if (query.execute === "true") {
        const run =
          result.flow.status === "approved"
            ? await svc.runs.start(result.flow.id, result.flow.version, result.library?.params ?? {}, {
                actor: actor.name,
                via: "api:execute",
              })
            : null;
        return c.json({ ...result, run: run ? { id: run.id, status: "queued" as const } : null }, 201);
      }
      svc.log.info(
        { flow: result.flow.id, engine: result.flow.engine, planner: result.planner, actor: actor.name },
        "flow version created from intent",
      );
      return c.json(result, 201);
    },
  }),
  endpoint({
    method: "post",
    path: "/v1/plans",
    summary: "Route and compile a plan given as JSON (a Plan, or a legacy { steps } workflow)",
    tag: "pipeline",
    role: "requester",
    query: PlanQuery,
    // Documented as either shape; the handler parses it itself for field-level errors.
    body: z.union([PlanBody, LegacyWorkflow]),
    rawBody: true,
    responses: {
      201: { description: "the plan, the route decision and the flow version", schema: VersionCreated },
    },
    handle: async ({ query, body }, c) => {
      const actor = c.get("actor");
      const result = await versionFromPlanInput(svc.pipeline, body, {
        engine: query.engine,
        force: query.force === "true",
        actor: actor.name,
      });
      metrics.versionCreated(result);
      svc.log.info(
        { flow: result.flow.id, engine: result.flow.engine, actor: actor.name },
        "flow version created from plan",
      );
      return c.json(result, 201);
    },
  }),
];
