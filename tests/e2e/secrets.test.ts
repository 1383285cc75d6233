import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts, type TestHosts } from "../../fixtures/test-hosts/server";
import { loadConfig } from "../../src/config";
import { listen } from "../../src/server";
import { createIntentflow, type Intentflow } from "../../src/service";

/**
 * A planted secret appears nowhere outside the place it came from: not in any API response,
 * not in the service's logs (at trace level), not in the database files, not in what the
 * planner is shown — through a successful run and through an authentication failure.
 */

const SECRET = "Pl4nted-S3cret-0f-the-day-7c1e";
const WRONG = "Pl4nted-Wr0ng-Passw0rd-91ab";
const INTENT = "check nginx on web1 and web2 and restart it where it is down";

let hosts: TestHosts;
let svc: Intentflow;
let server: Awaited<ReturnType<typeof listen>>;
let dir: string;
const logged: string[] = [];
const responses: string[] = [];

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  responses.push(text, JSON.stringify([...res.headers.entries()]));
  return JSON.parse(text);
}

async function runToEnd(flowId: string): Promise<any> {
  const started = await call("POST", `/v1/flows/${flowId}/runs`, {});
  for (let i = 0; i < 400; i++) {
    const r = await call("GET", `/v1/runs/${started.run.id}`);
    if (!["queued", "running"].includes(r.run.status)) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error("run did not finish");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "intentflow-secrets-"));
  hosts = await startTestHosts(
    [
      { name: "web1", services: { nginx: "active" } },
      { name: "web2", services: { nginx: "inactive" } },
    ],
    { password: SECRET },
  );
  writeFileSync(join(dir, "inventory.yaml"), hosts.inventoryYaml({ passwordEnv: "PLANTED_SSH_PASSWORD" }));
  process.env.PLANTED_SSH_PASSWORD = SECRET;
  const config = loadConfig({
    PORT: "0",
    DATABASE_URL: `sqlite:${join(dir, "intentflow.db")}`,
    INVENTORY_FILE: join(dir, "inventory.yaml"),
    LLM_PROVIDER: "offline",
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  svc = await createIntentflow(config, { log: pino({ level: "trace" }, sink) });
  server = await listen(svc);
}, 30_000);

afterAll(async () => {
  await server?.close();
  await svc?.close();
  await hosts?.close();
  delete process.env.PLANTED_SSH_PASSWORD;
  rmSync(dir, { recursive: true, force: true });
});

describe("a planted credential", () => {
  it("is used to log in, and then found nowhere: responses, logs, database, planner view", async () => {
    const created = await call("POST", "/v1/intents", { text: INTENT });
    await call("POST", `/v1/flows/${created.flow.id}/versions/1/approve`, {});
    const ok = await runToEnd(created.flow.id);
    expect(ok.run.status).toBe("succeeded");
    expect(hosts.commands("web1").length).toBeGreaterThan(0);

    // Now the credential is wrong: the failure must not quote the wrong one either.
    process.env.PLANTED_SSH_PASSWORD = WRONG;
    await hosts.dropConnections("web1");
    await hosts.dropConnections("web2");
    const again = await call("POST", "/v1/intents", { text: INTENT });
    await call("POST", `/v1/flows/${again.flow.id}/versions/1/approve`, {});
    const failed = await runToEnd(again.flow.id);
    expect(JSON.stringify(failed)).toMatch(/authentication as ops on web\d failed/);
    await call("GET", "/v1/status");

    const planner = JSON.stringify(svc.inventory.describe());
    expect(planner).not.toContain("127.0.0.1");
    const database = readdirSync(dir)
      .filter((f) => f.startsWith("intentflow.db"))
      .map((f) => readFileSync(join(dir, f)).toString("latin1"))
      .join("\n");
    expect(database.length).toBeGreaterThan(1000);
    for (const secret of [SECRET, WRONG]) {
      expect(responses.join("\n")).not.toContain(secret);
      expect(logged.join("\n")).not.toContain(secret);
      expect(database).not.toContain(secret);
      expect(planner).not.toContain(secret);
      expect(JSON.stringify(failed)).not.toContain(secret);
    }
    expect(logged.length).toBeGreaterThan(0);
  });
});
