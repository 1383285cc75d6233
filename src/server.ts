import { serve } from "@hono/node-server";
import { createApp } from "./api/app";
import type { Intentflow } from "./service";

/** Starts the HTTP server; resolves once it listens, with the bound port. */
export function listen(svc: Intentflow): Promise<{ port: number; close(): Promise<void> }> {
  const app = createApp(svc);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: svc.config.port, hostname: svc.config.host }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
