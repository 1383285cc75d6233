import { z } from "zod";
import type { Intentflow } from "../../service";
import type { RunRecord } from "../../store/types";
import { endpoint } from "../endpoint";
import { runEventStream } from "../run-events";
import { ApiError } from "../errors";
import { FlowParams, RunBody, RunDetail, RunListQuery, RunParams, RunQueued, RunView } from "../schemas";

const FINAL = new Set<RunRecord["status"]>(["succeeded", "failed", "cancelled", "timed_out"]);

async function getRunOr404(svc: Intentflow, id: string): Promise<RunRecord> {
  const run = await svc.store.getRun(id);
  if (!run) throw new ApiError(404, "not_found", `no run ${id}`);
  return run;
}

export const runEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "post",
    path: "/v1/flows/:id/runs",
    summary: "Run an approved version (the latest unless `version` is given); 409 unless approved",
    tag: "runs",
    role: "requester",
    params: FlowParams,
    body: RunBody,
    bodyOptional: true,
    responses: { 202: { description: "queued", schema: RunQueued } },
    handle: async ({ params, body }, c) => {
      const version = body.version ?? (await svc.store.latestVersion(params.id))?.version;
      if (!version) throw new ApiError(404, "not_found", `no flow ${params.id}`);
      const run = await svc.runs.start(params.id, version, body.params, {
        actor: c.get("actor").name,
        via: "api",
      });
      svc.log.info({ run: run.id, flow: params.id, version, actor: c.get("actor").name }, "run queued");
      return c.json(
        { run: { id: run.id, status: "queued" as const, flowId: params.id, version, engine: run.engine } },
        202,
      );
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/runs",
    summary: "Runs, newest first, filtered by status or flow",
    tag: "runs",
    role: "requester",
    query: RunListQuery,
    responses: { 200: { description: "runs", schema: z.object({ runs: z.array(RunView) }) } },
    handle: async ({ query }, c) => c.json({ runs: await svc.store.listRuns(query) }),
  }),
  endpoint({
    method: "get",
    path: "/v1/runs/:id",
    summary: "A run: status, engine, and per step and host its status, attempts, exit code and output; logs",
    tag: "runs",
    role: "requester",
    params: RunParams,
    responses: { 200: { description: "the run", schema: RunDetail } },
    handle: async ({ params }, c) => {
      const run = await getRunOr404(svc, params.id);
      const [steps, logs] = await Promise.all([svc.store.stepResults(params.id), svc.store.logs(params.id)]);
      return c.json({ run, steps, logs });
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/runs/:id/events",
    summary: "Server-Sent Events: run.status, step.started, step.finished, log, and run.finished last",
    tag: "runs",
    role: "requester",
    params: RunParams,
    responses: { 200: { description: "an event stream", contentType: "text/event-stream" } },
    handle: async ({ params }, c) => {
      await getRunOr404(svc, params.id);
      return runEventStream(c, svc.store, params.id);
    },
  }),
  endpoint({
    method: "post",
    path: "/v1/runs/:id/cancel",
    summary: "Cancel a queued or running run; reaches its sandbox and in-flight commands",
    tag: "runs",
    role: "requester",
    params: RunParams,
    responses: { 202: { description: "cancellation requested", schema: z.object({ run: RunView }) } },
    handle: async ({ params }, c) => {
      const run = await getRunOr404(svc, params.id);
      if (FINAL.has(run.status))
        throw new ApiError(409, "conflict", `run ${run.id} has already ${run.status}`);
      // Queued: ends at once. Running: aborted here, or by the process that owns it at its next heartbeat.
      const outcome = await svc.runs.requestCancel(run.id);
      if (outcome === "finished") throw new ApiError(409, "conflict", `run ${run.id} finished meanwhile`);
      await svc.store.appendAudit({
        at: new Date().toISOString(),
        actor: c.get("actor").name,
        action: "run.cancel_requested",
        subject: `run:${run.id}`,
        detail: { outcome },
      });
      svc.log.info({ run: run.id, actor: c.get("actor").name }, "run cancel requested");
      return c.json({ run: await getRunOr404(svc, run.id) }, 202);
    },
  }),
];
