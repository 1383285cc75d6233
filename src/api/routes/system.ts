import { z } from "zod";
import type { Intentflow } from "../../service";
import { endpoint } from "../endpoint";
import { ApiError } from "../errors";
import { Id } from "../schemas";
import { describeStatus } from "../status";

export const systemEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "get",
    path: "/health",
    summary: "Liveness: the process answers",
    tag: "system",
    responses: { 200: { description: "alive", schema: z.object({ status: z.literal("ok") }) } },
    handle: (_, c) => c.json({ status: "ok" as const }),
  }),
  endpoint({
    method: "get",
    path: "/v1/status",
    summary: "Which store, queue backend, planner and engines are in use, and whether each answers",
    tag: "system",
    role: "requester",
    responses: { 200: { description: "the parts in use" } },
    handle: async (_, c) => c.json(await describeStatus(svc)),
  }),
  endpoint({
    method: "get",
    path: "/v1/me",
    summary: "Who the caller is and what role their key has (pages use it to show only what the role may do)",
    tag: "system",
    role: "requester",
    responses: {
      200: {
        description: "the caller",
        schema: z.object({ name: z.string(), role: z.enum(["requester", "reviewer", "admin"]) }),
      },
    },
    handle: (_, c) => c.json(c.get("actor")),
  }),
  endpoint({
    method: "get",
    path: "/v1/engines",
    summary: "The engines, whether each is available, and the queue backend's load",
    tag: "system",
    role: "requester",
    responses: { 200: { description: "engines" } },
    handle: (_, c) =>
      c.json({
        queue: { available: true, backend: svc.queue.kind, jobs: svc.queue.counts() },
        flow: { available: svc.flowAvailable },
        routing: { flowRolloutPercent: svc.config.route.flowRolloutPercent },
      }),
  }),
  endpoint({
    method: "get",
    path: "/v1/plans/:id",
    summary: "A stored plan: how it arrived and which planner made it",
    tag: "pipeline",
    role: "requester",
    params: z.object({ id: Id }).strict(),
    responses: { 200: { description: "the plan" } },
    handle: async ({ params }, c) => {
      const plan = await svc.store.getPlan(params.id);
      if (!plan) throw new ApiError(404, "not_found", `no plan ${params.id}`);
      return c.json({ plan });
    },
  }),
];
