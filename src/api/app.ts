import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { versionFromIntent, versionFromPlanInput } from "../pipeline";
import { approveVersion } from "../review/approve";
import type { Intentflow } from "../service";
import { type AuthVariables, authenticate, requireRole } from "./auth";
import { ApiError, errorResponse, toApiError } from "./errors";
import { describeStatus } from "./status";

const Engine = z.enum(["auto", "queue", "flow"]);
const IntentBody = z
  .object({
    text: z.string().trim().min(1, "must not be empty").max(4000),
    engine: Engine.default("auto"),
    force: z.boolean().default(false),
  })
  .strict();
const PlanQuery = z
  .object({ engine: Engine.default("auto"), force: z.enum(["true", "false"]).default("false") })
  .strict();
const ApproveBody = z.object({ comment: z.string().max(2000).nullable().default(null) }).strict();
const RunBody = z
  .object({
    version: z.number().int().min(1).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const Id = z.uuid({ message: "must be an id as returned by the API" });
const VersionNo = z.coerce.number().int().min(1).max(1_000_000);

const MAX_BODY_BYTES = 1024 * 1024;

async function jsonBody(req: Request): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.includes("application/json"))
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  const text = await req.text();
  if (!text.trim()) throw new ApiError(400, "invalid_json", "the request body is empty");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, field?: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].filter(Boolean).join(".");
  throw new ApiError(400, "invalid_body", `${path || "body"}: ${issue.message}`, path || undefined);
}

/** The HTTP face of the service: thin, every input parsed by a schema, every error one JSON shape. */
export function createApp(svc: Intentflow) {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.onError((e, c) => {
    const api = toApiError(e);
    if (api.status >= 500) svc.log.error({ err: e, path: c.req.path }, "request failed");
    return errorResponse(c, api);
  });
  app.notFound((c) =>
    errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)),
  );

  app.get("/health", (c) => c.json({ status: "ok" }));

  const v1 = new Hono<{ Variables: AuthVariables }>();
  v1.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, "body_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  v1.use(authenticate(svc.config.apiKeys));

  v1.get("/status", async (c) => c.json(await describeStatus(svc)));

  v1.post("/intents", async (c) => {
    const body = parse(IntentBody, await jsonBody(c.req.raw));
    const actor = c.get("actor");
    const result = await versionFromIntent(svc.pipeline, body.text, {
      engine: body.engine,
      force: body.force,
      actor: actor.name,
    });
    svc.log.info(
      { flow: result.flow.id, engine: result.flow.engine, planner: result.planner, actor: actor.name },
      "flow version created from intent",
    );
    return c.json(result, 201);
  });

  v1.post("/plans", async (c) => {
    const query = parse(PlanQuery, c.req.query(), "query");
    const body = await jsonBody(c.req.raw);
    const actor = c.get("actor");
    const result = await versionFromPlanInput(svc.pipeline, body, {
      engine: query.engine,
      force: query.force === "true",
      actor: actor.name,
    });
    svc.log.info(
      { flow: result.flow.id, engine: result.flow.engine, actor: actor.name },
      "flow version created from plan",
    );
    return c.json(result, 201);
  });

  v1.get("/flows/:id/versions/:version", async (c) => {
    const id = parse(Id, c.req.param("id"), "id");
    const version = parse(VersionNo, c.req.param("version"), "version");
    const v = await svc.store.getVersion(id, version);
    if (!v) throw new ApiError(404, "not_found", `flow ${id} has no version ${version}`);
    const { bundle: _bundle, sourceMap: _map, ...rest } = v;
    return c.json({ version: rest });
  });

  v1.post("/flows/:id/versions/:version/approve", async (c) => {
    const id = parse(Id, c.req.param("id"), "id");
    const version = parse(VersionNo, c.req.param("version"), "version");
    const raw =
      c.req.header("content-length") === "0" || !c.req.header("content-type")
        ? {}
        : await jsonBody(c.req.raw);
    const body = parse(ApproveBody, raw);
    const actor = c.get("actor");
    requireRole(actor, "reviewer");
    const v = await approveVersion(svc.store, id, version, actor, body.comment);
    svc.log.info({ flow: id, version, by: actor.name, hash: v.approvedHash }, "flow version approved");
    const { bundle: _bundle, sourceMap: _map, ...rest } = v;
    return c.json({ version: rest });
  });

  v1.post("/flows/:id/runs", async (c) => {
    const id = parse(Id, c.req.param("id"), "id");
    const raw =
      c.req.header("content-length") === "0" || !c.req.header("content-type")
        ? {}
        : await jsonBody(c.req.raw);
    const body = parse(RunBody, raw);
    const version = body.version ?? (await svc.store.latestVersion(id))?.version;
    if (!version) throw new ApiError(404, "not_found", `no flow ${id}`);
    const run = await svc.runs.start(id, version, body.params);
    svc.log.info({ run: run.id, flow: id, version, actor: c.get("actor").name }, "run queued");
    return c.json({ run: { id: run.id, status: run.status, flowId: id, version, engine: run.engine } }, 202);
  });

  v1.get("/runs/:id", async (c) => {
    const id = parse(Id, c.req.param("id"), "id");
    const run = await svc.store.getRun(id);
    if (!run) throw new ApiError(404, "not_found", `no run ${id}`);
    const [steps, logs] = await Promise.all([svc.store.stepResults(id), svc.store.logs(id)]);
    return c.json({ run, steps, logs });
  });

  app.route("/v1", v1);
  return app;
}
