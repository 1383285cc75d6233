import { createTwoFilesPatch } from "diff";
import { z } from "zod";
import { versionFromEditedSource } from "../../pipeline";
import { approveVersion } from "../../review/approve";
import type { Intentflow } from "../../service";
import type { FlowVersionRecord } from "../../store/types";
import { endpoint } from "../endpoint";
import { ApiError } from "../errors";
import {
  ApproveBody,
  EditBody,
  FlowParams,
  FlowVersionParams,
  VersionDiff,
  VersionListQuery,
  VersionView,
} from "../schemas";

/** What the API shows of a version: the bundle and source map stay inside. */
export function versionView(v: FlowVersionRecord): z.infer<typeof VersionView> {
  const { bundle: _bundle, sourceMap: _sourceMap, ...rest } = v;
  return rest;
}

async function getVersionOr404(svc: Intentflow, flowId: string, version: number): Promise<FlowVersionRecord> {
  const v = await svc.store.getVersion(flowId, version);
  if (!v) throw new ApiError(404, "not_found", `flow ${flowId} has no version ${version}`);
  return v;
}

export const flowEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "get",
    path: "/v1/versions",
    summary: "Flow versions across flows, newest first (e.g. ?status=pending: the review inbox)",
    tag: "review",
    role: "requester",
    query: VersionListQuery,
    responses: { 200: { description: "versions", schema: z.object({ versions: z.array(VersionView) }) } },
    handle: async ({ query }, c) => {
      const versions = await svc.store.listVersions(query.status ? { status: query.status } : {});
      return c.json({ versions: versions.slice(0, query.limit).map(versionView) });
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/flows/:id/versions",
    summary: "A flow's versions, newest first",
    tag: "review",
    role: "requester",
    params: FlowParams,
    query: VersionListQuery,
    responses: { 200: { description: "versions", schema: z.object({ versions: z.array(VersionView) }) } },
    handle: async ({ params, query }, c) => {
      const versions = await svc.store.listVersions({
        flowId: params.id,
        ...(query.status ? { status: query.status } : {}),
      });
      if (!versions.length && !(await svc.store.getFlow(params.id)))
        throw new ApiError(404, "not_found", `no flow ${params.id}`);
      return c.json({ versions: versions.slice(0, query.limit).map(versionView) });
    },
  }),
  endpoint({
    method: "post",
    path: "/v1/flows/:id/versions",
    summary: "Submit an edited source: checked and bundled like generated code, a new version pending review",
    tag: "review",
    role: "requester",
    params: FlowParams,
    body: EditBody,
    responses: { 201: { description: "the new version", schema: z.object({ version: VersionView }) } },
    handle: async ({ params, body }, c) => {
      const actor = c.get("actor");
      const v = await versionFromEditedSource(svc.pipeline, params.id, body, actor.name);
      svc.log.info(
        { flow: params.id, version: v.version, actor: actor.name },
        "edited flow version submitted",
      );
      return c.json({ version: versionView(v) }, 201);
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/flows/:id/versions/:version",
    summary: "One version: plan id, source, diagnostics, route decision, status, hash",
    tag: "review",
    role: "requester",
    params: FlowVersionParams,
    responses: { 200: { description: "the version", schema: z.object({ version: VersionView }) } },
    handle: async ({ params }, c) =>
      c.json({ version: versionView(await getVersionOr404(svc, params.id, params.version)) }),
  }),
  endpoint({
    method: "get",
    path: "/v1/flows/:id/versions/:version/diff",
    summary:
      "Unified diff of the source (or of the plan, for queue-engine flows) against the previous version",
    tag: "review",
    role: "requester",
    params: FlowVersionParams,
    responses: { 200: { description: "the diff", schema: VersionDiff } },
    handle: async ({ params }, c) => {
      const v = await getVersionOr404(svc, params.id, params.version);
      const prev = params.version > 1 ? await svc.store.getVersion(params.id, params.version - 1) : undefined;
      const kind = v.source !== null && (prev === undefined || prev.source !== null) ? "source" : "plan";
      const text = async (x: FlowVersionRecord | undefined) => {
        if (!x) return "";
        if (kind === "source") return x.source ?? "";
        return `${JSON.stringify((await svc.store.getPlan(x.planId))?.plan ?? null, null, 2)}\n`;
      };
      const name = kind === "source" ? "flow.ts" : "plan.json";
      const diff = createTwoFilesPatch(
        prev ? `v${prev.version}/${name}` : "/dev/null",
        `v${v.version}/${name}`,
        await text(prev),
        await text(v),
        undefined,
        undefined,
        { context: 3 },
      );
      return c.json({ flowId: params.id, version: v.version, against: prev?.version ?? null, kind, diff });
    },
  }),
  endpoint({
    method: "post",
    path: "/v1/flows/:id/versions/:version/approve",
    summary: "Approve a pending version (reviewer or admin): pins the hash of what will run",
    tag: "review",
    role: "reviewer",
    params: FlowVersionParams,
    body: ApproveBody,
    bodyOptional: true,
    responses: { 200: { description: "the approved version", schema: z.object({ version: VersionView }) } },
    handle: async ({ params, body }, c) => {
      const actor = c.get("actor");
      const v = await approveVersion(
        svc.store,
        params.id,
        params.version,
        actor,
        body.comment,
        svc.config.approval,
      );
      svc.log.info(
        { flow: params.id, version: params.version, by: actor.name, hash: v.approvedHash },
        "flow version approved",
      );
      return c.json({ version: versionView(v) });
    },
  }),
];
