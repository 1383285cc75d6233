import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Hono } from "hono";
import type { Env } from "../api/endpoint";
import type { Intentflow } from "../service";

/**
 * The review pages: one HTML shell, a script bundled in memory from ./client at start-up
 * (no build step for the user), our stylesheet and highlight.js's, all served from here.
 * Every response forbids inline script and any other origin.
 */

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>intentflow</title>
<link rel="icon" href="/ui/assets/icon.svg">
<link rel="stylesheet" href="/ui/assets/hljs.css">
<link rel="stylesheet" href="/ui/assets/app.css">
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body></body>
</html>
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#24292f"/><path d="M4 8h8M9 5l3 3-3 3" stroke="#fff" stroke-width="1.6" fill="none"/></svg>`;

type Asset = { body: string; type: string };

async function bundleClient(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, "client", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: true,
    legalComments: "none",
  });
  return out.outputFiles[0]!.text;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const hljsDir = dirname(require.resolve("highlight.js/package.json"));
  return new Map([
    ["app.js", { body: await bundleClient(), type: "text/javascript; charset=utf-8" }],
    [
      "app.css",
      { body: readFileSync(join(here, "assets", "app.css"), "utf8"), type: "text/css; charset=utf-8" },
    ],
    ["icon.svg", { body: ICON, type: "image/svg+xml" }],
    [
      "hljs.css",
      { body: readFileSync(join(hljsDir, "styles", "github.css"), "utf8"), type: "text/css; charset=utf-8" },
    ],
  ]);
}

function secure(type: string, cache: string): Record<string, string> {
  return {
    "content-type": type,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": cache,
  };
}

/** Serves the pages under /ui (mounted before the /v1 middleware; the pages call /v1 with the user's key). */
export function mountUi(app: Hono<Env>, svc: Intentflow): void {
  const assets = loadAssets();
  assets.catch((e: unknown) => svc.log.error({ err: e }, "review UI assets failed to build"));
  app.get("/ui", (c) => c.redirect("/ui/"));
  app.get("/ui/assets/:file", async function uiAsset(c) {
    const asset = (await assets).get(c.req.param("file"));
    if (!asset) return c.text("not found", 404, secure("text/plain; charset=utf-8", "no-store"));
    return c.body(asset.body, 200, secure(asset.type, "no-cache"));
  });
  app.get("/ui/*", function uiShell(c) {
    return c.body(SHELL, 200, secure("text/html; charset=utf-8", "no-store"));
  });
}
