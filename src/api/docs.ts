import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Context } from "hono";
import { ApiError } from "./errors";

/**
 * The browsable API reference at /docs: Swagger UI served from the installed package, no CDN.
 * Only the three files the page needs are served, by exact name.
 */

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
};

const dir = (
  createRequire(import.meta.url)("swagger-ui-dist") as { getAbsoluteFSPath(): string }
).getAbsoluteFSPath();
const cache = new Map<string, Buffer>();

export async function swaggerAsset(c: Context, file: string): Promise<Response> {
  const type = ASSETS[file];
  if (!type) throw new ApiError(404, "not_found", `no asset ${file}`);
  let body = cache.get(file);
  if (!body) {
    body = await readFile(join(dir, file));
    cache.set(file, body);
  }
  return c.body(new Uint8Array(body), 200, {
    "content-type": type,
    "cache-control": "public, max-age=86400",
  });
}

export function docsPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>intentflow API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: "#api", presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
  </script>
</body>
</html>`;
}
