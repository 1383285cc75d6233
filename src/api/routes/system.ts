import { z } from "zod";
import type { Intentflow } from "../../service";
import { endpoint } from "../endpoint";
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
];
