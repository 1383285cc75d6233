import { randomUUID } from "node:crypto";
import { z } from "zod";
import { RunRefused, resolveParams } from "../../engines/runs";
import { rejectVersion } from "../../review/approve";
import { nextRunAfter, ScheduleSpecError, validateSpec } from "../../schedules/timing";
import type { Intentflow } from "../../service";
import type { ScheduleRecord } from "../../store/types";
import { endpoint } from "../endpoint";
import { ApiError } from "../errors";
import {
  AuditQuery,
  AuditView,
  FlowVersionParams,
  RejectBody,
  ScheduleBody,
  ScheduleParams,
  ScheduleView,
  VersionView,
} from "../schemas";
import { versionView } from "./flows";

async function scheduleOr404(svc: Intentflow, id: string): Promise<ScheduleRecord> {
  const s = await svc.store.getSchedule(id);
  if (!s) throw new ApiError(404, "not_found", `no schedule ${id}`);
  return s;
}

export const governanceEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "post",
    path: "/v1/flows/:id/versions/:version/reject",
    summary: "Reject a pending version with a reason (reviewer or admin)",
    tag: "review",
    role: "reviewer",
    params: FlowVersionParams,
    body: RejectBody,
    responses: { 200: { description: "the rejected version", schema: z.object({ version: VersionView }) } },
    handle: async ({ params, body }, c) => {
      const actor = c.get("actor");
      const v = await rejectVersion(svc.store, params.id, params.version, actor, body.reason);
      svc.log.info({ flow: params.id, version: params.version, by: actor.name }, "flow version rejected");
      return c.json({ version: versionView(v) });
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/audit",
    summary: "The audit trail, newest first: versions, approvals, rejections, runs, cancels, schedules",
    tag: "review",
    role: "reviewer",
    query: AuditQuery,
    responses: { 200: { description: "entries", schema: z.object({ entries: z.array(AuditView) }) } },
    handle: async ({ query }, c) => c.json({ entries: await svc.store.listAudit(query) }),
  }),
  endpoint({
    method: "get",
    path: "/v1/schedules",
    summary: "Schedules, newest first",
    tag: "schedules",
    role: "requester",
    query: z.object({ flowId: z.uuid().optional() }).strict(),
    responses: { 200: { description: "schedules", schema: z.object({ schedules: z.array(ScheduleView) }) } },
    handle: async ({ query }, c) => c.json({ schedules: await svc.store.listSchedules(query) }),
  }),
  endpoint({
    method: "post",
    path: "/v1/schedules",
    summary: "Schedule an approved version: a cron expression (UTC), a fixed interval, or one run at a time",
    tag: "schedules",
    role: "reviewer",
    body: ScheduleBody,
    responses: { 201: { description: "the schedule", schema: z.object({ schedule: ScheduleView }) } },
    handle: async ({ body }, c) => {
      const actor = c.get("actor");
      const versions = await svc.store.listVersions({ flowId: body.flowId, status: "approved" });
      const version = body.version ?? versions[0]?.version;
      const v = version === undefined ? undefined : await svc.store.getVersion(body.flowId, version);
      if (!v)
        throw new ApiError(
          404,
          "not_found",
          `flow ${body.flowId} has no approved version to schedule`,
          "flowId",
        );
      if (v.status !== "approved")
        throw new ApiError(
          409,
          "not_approved",
          `version ${v.version} is ${v.status}: only approved versions are scheduled`,
        );
      const plan = await svc.store.getPlan(v.planId);
      try {
        resolveParams(plan?.plan.params ?? [], body.params);
      } catch (e) {
        if (e instanceof RunRefused) throw new ApiError(400, "invalid_params", e.message, e.field);
        throw e;
      }
      const kind = body.cron !== undefined ? "cron" : body.everyMs !== undefined ? "interval" : "once";
      const spec = String(body.cron ?? body.everyMs ?? body.at);
      const now = new Date();
      try {
        validateSpec(kind, spec, now);
      } catch (e) {
        if (e instanceof ScheduleSpecError) throw new ApiError(400, "invalid_schedule", e.message, e.field);
        throw e;
      }
      const schedule: ScheduleRecord = {
        id: randomUUID(),
        flowId: v.flowId,
        version: v.version,
        kind,
        spec: kind === "once" ? new Date(spec).toISOString() : spec,
        params: body.params,
        enabled: true,
        nextRunAt: nextRunAfter(kind, spec, now)?.toISOString() ?? null,
        lastRunId: null,
        lastRunAt: null,
        createdBy: actor.name,
        createdAt: now.toISOString(),
      };
      await svc.store.createSchedule(schedule);
      await svc.store.appendAudit({
        at: schedule.createdAt,
        actor: actor.name,
        action: "schedule.created",
        subject: `schedule:${schedule.id}`,
        detail: { flowId: v.flowId, version: v.version, kind, spec: schedule.spec },
      });
      return c.json({ schedule }, 201);
    },
  }),
  ...(["pause", "resume"] as const).map((verb) =>
    endpoint({
      method: "post",
      path: `/v1/schedules/:id/${verb}`,
      summary:
        verb === "pause" ? "Pause a schedule" : "Resume a paused schedule from its next time after now",
      tag: "schedules",
      role: "reviewer",
      params: ScheduleParams,
      responses: { 200: { description: "the schedule", schema: z.object({ schedule: ScheduleView }) } },
      handle: async ({ params }, c) => {
        const s = await scheduleOr404(svc, params.id);
        const next = verb === "resume" ? nextRunAfter(s.kind, s.spec, new Date()) : null;
        if (verb === "resume" && !next)
          throw new ApiError(409, "conflict", "this one-off schedule's time has passed");
        await svc.store.setScheduleEnabled(s.id, verb === "resume", next?.toISOString() ?? null);
        await svc.store.appendAudit({
          at: new Date().toISOString(),
          actor: c.get("actor").name,
          action: `schedule.${verb}d`,
          subject: `schedule:${s.id}`,
          detail: {},
        });
        return c.json({ schedule: await scheduleOr404(svc, s.id) });
      },
    }),
  ),
  endpoint({
    method: "post",
    path: "/v1/schedules/:id/delete",
    summary: "Remove a schedule (runs it started are kept)",
    tag: "schedules",
    role: "reviewer",
    params: ScheduleParams,
    responses: { 200: { description: "removed", schema: z.object({ deleted: z.literal(true) }) } },
    handle: async ({ params }, c) => {
      await scheduleOr404(svc, params.id);
      await svc.store.deleteSchedule(params.id);
      await svc.store.appendAudit({
        at: new Date().toISOString(),
        actor: c.get("actor").name,
        action: "schedule.deleted",
        subject: `schedule:${params.id}`,
        detail: {},
      });
      return c.json({ deleted: true as const });
    },
  }),
];
