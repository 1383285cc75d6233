import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestHosts, type TestHostSpec, type TestHosts } from "../../fixtures/test-hosts/server";
import { loadConfig } from "../../src/config";
import { listen } from "../../src/server";
import { createIntentflow, type Intentflow } from "../../src/service";

export type Stack = {
  base: string;
  svc: Intentflow;
  hosts: TestHosts;
  dir: string;
  /** fetch against the running service, JSON in and out. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  waitForRun(runId: string, timeoutMs?: number, headers?: Record<string, string>): Promise<any>;
  close(): Promise<void>;
};

export const NGINX_HOSTS: TestHostSpec[] = [
  { name: "web1", services: { nginx: "active" } },
  { name: "web2", services: { nginx: "inactive" } },
];

/**
 * The whole service over real HTTP, with simulated SSH hosts and a throwaway SQLite file.
 * `env` adds or overrides configuration (e.g. an LLM provider pointed at a replay server).
 */
export async function startStack(
  env: Record<string, string> = {},
  specs: TestHostSpec[] = NGINX_HOSTS,
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "intentflow-e2e-"));
  const hosts = await startTestHosts(specs);
  const inventoryFile = join(dir, "inventory.yaml");
  writeFileSync(inventoryFile, hosts.inventoryYaml());
  process.env.INTENTFLOW_TEST_SSH_PASSWORD = hosts.password;
  const config = loadConfig({
    PORT: "0",
    DATABASE_URL: `sqlite:${join(dir, "intentflow.db")}`,
    INVENTORY_FILE: inventoryFile,
    LLM_PROVIDER: "offline",
    LOG_LEVEL: "silent",
    ...env,
  });
  const svc = await createIntentflow(config);
  const server = await listen(svc);
  const base = `http://127.0.0.1:${server.port}`;
  const call: Stack["call"] = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
  const waitForRun: Stack["waitForRun"] = async (runId, timeoutMs = 20_000, headers = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await call("GET", `/v1/runs/${runId}`, undefined, headers);
      if (r.status !== 200)
        throw new Error(`GET /v1/runs/${runId} answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (!["queued", "running"].includes(r.body.run?.status)) return r.body;
      if (Date.now() > deadline)
        throw new Error(`run ${runId} still ${r.body.run?.status} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 25));
    }
  };
  return {
    base,
    svc,
    hosts,
    dir,
    call,
    waitForRun,
    async close() {
      await server.close();
      await svc.close();
      await hosts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
