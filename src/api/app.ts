import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Intentflow } from "../service";
import { authenticate } from "./auth";
import { type Endpoint, type Env, mount } from "./endpoint";
import { ApiError, errorResponse, toApiError } from "./errors";
import { createMetrics, type Metrics } from "./metrics";
import { openApiDocument } from "./openapi";
import { rateLimit } from "./rate-limit";
import { docsPage, swaggerAsset } from "./docs";
import { mountMcp } from "../chat/mcp";
import { chatEndpoints } from "./routes/chat";
import { flowEndpoints } from "./routes/flows";
import { governanceEndpoints } from "./routes/governance";
import { intentEndpoints } from "./routes/intents";
import { libraryEndpoints } from "./routes/library";
import { runEndpoints } from "./routes/runs";
import { systemEndpoints } from "./routes/system";
import { mountUi } from "../ui";

const MAX_BODY_BYTES = 1024 * 1024;

/** Every declared endpoint, in the order the API reference lists them. */
export function endpoints(svc: Intentflow, metrics: Metrics): Endpoint[] {
  return [
    ...systemEndpoints(svc),
    ...intentEndpoints(svc, metrics),
    ...flowEndpoints(svc),
    ...runEndpoints(svc),
    ...governanceEndpoints(svc),
    ...chatEndpoints(svc),
    ...libraryEndpoints(svc),
  ] as Endpoint[];
}

/** The HTTP face of the service: thin, every input parsed by a declared schema, every error one JSON shape. */
export function createApp(svc: Intentflow) {
  const app = new Hono<Env>();
  const metrics = createMetrics(svc.store);
  const declared = endpoints(svc, metrics);
  const document = openApiDocument(declared, { title: "intentflow", version: "0.1.0" });

  app.onError((e, c) => {
    const api = toApiError(e);
    if (api.status >= 500) svc.log.error({ err: e, path: c.req.path }, "request failed");
    return errorResponse(c, api);
  });
  app.notFound((c) =>
    errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)),
  );

  app.use(metrics.track);
  app.get("/metrics", async (c) =>
    c.text(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );
  app.get("/openapi.json", (c) => c.json(document));
  app.get("/docs", (c) => c.html(docsPage("/openapi.json")));
  app.get("/docs/assets/:file", (c) => swaggerAsset(c, c.req.param("file")));

  mountUi(app, svc);
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, "body_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.use("/v1/*", authenticate(svc.config.apiKeys));
  app.use("/v1/*", rateLimit(svc.config.rateLimitPerMinute));
  for (const e of declared) mount(app, e);
  mountMcp(app, svc);
  return app;
}
