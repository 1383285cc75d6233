import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";

async function createFlow(stack: Stack, text = INTENT) {
  const res = await stack.call("POST", "/v1/intents", { text });
  expect(res.status).toBe(201);
  return res.body.flow as { id: string; source: string; hash: string };
}

describe("API reference", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("publishes an OpenAPI 3.1 document generated from the route schemas", async () => {
    const { status, body } = await stack.call("GET", "/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/intents",
      "/v1/plans",
      "/v1/flows/{id}/versions/{version}/approve",
      "/v1/flows/{id}/versions/{version}/diff",
      "/v1/flows/{id}/runs",
      "/v1/runs/{id}",
      "/v1/runs/{id}/cancel",
    ])
      expect(body.paths).toHaveProperty([path]);
    const intents = body.paths["/v1/intents"].post;
    expect(intents.requestBody.content["application/json"].schema.properties.text.maxLength).toBe(4000);
    expect(intents.responses["201"].content["application/json"].schema.properties).toHaveProperty("route");
    expect(body.paths["/v1/flows/{id}/versions/{version}/approve"].post["x-required-role"]).toBe("reviewer");
  });

  it("serves a browsable reference from the installed package, and nothing else from it", async () => {
    const page = await fetch(`${stack.base}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(html).not.toMatch(/https?:\/\//);
    const asset = await fetch(`${stack.base}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    for (const bad of ["package.json", "..%2F..%2Fpackage.json", "index.html"])
      expect((await fetch(`${stack.base}/docs/assets/${bad}`)).status).toBe(404);
  });
});

describe("review: lists, edits, diffs", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("lists pending versions as an inbox", async () => {
    const flow = await createFlow(stack);
    const inbox = await stack.call("GET", "/v1/versions?status=pending");
    expect(inbox.status).toBe(200);
    expect(inbox.body.versions.map((v: any) => v.flowId)).toContain(flow.id);
    expect(JSON.stringify(inbox.body)).not.toContain('"bundle"');
    const versions = await stack.call("GET", `/v1/flows/${flow.id}/versions`);
    expect(versions.body.versions).toHaveLength(1);
  });

  it("turns an edited source into a new pending version whose approved bundle is what runs", async () => {
    const flow = await createFlow(stack);
    const edited = flow.source.replace("sudo systemctl restart nginx", "sudo systemctl start nginx");
    expect(edited).not.toBe(flow.source);
    const v2 = await stack.call("POST", `/v1/flows/${flow.id}/versions`, { source: edited });
    expect(v2.status).toBe(201);
    expect(v2.body.version).toMatchObject({ version: 2, status: "pending", readOnly: false });
    expect(v2.body.version.hash).not.toBe(flow.hash);

    const diff = await stack.call("GET", `/v1/flows/${flow.id}/versions/2/diff`);
    expect(diff.body).toMatchObject({ kind: "source", against: 1, version: 2 });
    expect(diff.body.diff).toContain("-        ssh.exec(host, sh`sudo systemctl restart nginx`)");
    expect(diff.body.diff).toContain("+        ssh.exec(host, sh`sudo systemctl start nginx`)");

    expect((await stack.call("POST", `/v1/flows/${flow.id}/runs`, { version: 2 })).status).toBe(409);
    expect((await stack.call("POST", `/v1/flows/${flow.id}/versions/2/approve`)).status).toBe(200);
    const run = await stack.call("POST", `/v1/flows/${flow.id}/runs`, { version: 2 });
    const result = await stack.waitForRun(run.body.run.id);
    expect(result.run.status).toBe("succeeded");
    expect(stack.hosts.commands("web2")).toContain("sudo systemctl start nginx");
  });

  it("refuses an edit that does not compile, pointing at the line, and stores nothing", async () => {
    const flow = await createFlow(stack);
    const hostile = `import { readFileSync } from "node:fs";\n${flow.source}`;
    const res = await stack.call("POST", `/v1/flows/${flow.id}/versions`, { source: hostile });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("compile_failed");
    expect(res.body.error.details.some((d: any) => d.line === 1)).toBe(true);
    expect((await stack.call("GET", `/v1/flows/${flow.id}/versions`)).body.versions).toHaveLength(1);
  });

  it("refuses to edit a queue-engine flow, which has no source", async () => {
    const res = await stack.call("POST", "/v1/plans", {
      steps: [{ id: "a", name: "uptime", type: "ssh", host: "web1", command: "uptime" }],
    });
    const edit = await stack.call("POST", `/v1/flows/${res.body.flow.id}/versions`, { source: "export {}" });
    expect(edit.status).toBe(422);
    expect(edit.body.error.code).toBe("not_editable");
  });

  it("refuses to run a version whose stored bundle was changed after approval", async () => {
    const flow = await createFlow(stack);
    await stack.call("POST", `/v1/flows/${flow.id}/versions/1/approve`);
    const db = new Database(join(stack.dir, "intentflow.db"));
    db.prepare("update flow_versions set bundle = bundle || ';globalThis.x=1' where flow_id = ?").run(
      flow.id,
    );
    db.close();
    const run = await stack.call("POST", `/v1/flows/${flow.id}/runs`);
    expect(run.status).toBe(409);
    expect(run.body.error.code).toBe("hash_mismatch");
  });
});

describe("runs: list and cancel", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("cancels a running run, reaching its in-flight command, and refuses to cancel it twice", async () => {
    const plan = {
      steps: [{ id: "wait", name: "wait", type: "ssh", host: "web1", command: "sleep 30" }],
    };
    const created = await stack.call("POST", "/v1/plans?engine=flow&force=true", plan);
    expect(created.status).toBe(201);
    const id = created.body.flow.id;
    await stack.call("POST", `/v1/flows/${id}/versions/1/approve`);
    const run = (await stack.call("POST", `/v1/flows/${id}/runs`)).body.run;
    for (
      let i = 0;
      i < 100 && (await stack.call("GET", `/v1/runs/${run.id}`)).body.run.status !== "running";
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const cancel = await stack.call("POST", `/v1/runs/${run.id}/cancel`);
    expect(cancel.status).toBe(202);
    const result = await stack.waitForRun(run.id, 10_000);
    expect(result.run.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await stack.call("POST", `/v1/runs/${run.id}/cancel`)).status).toBe(409);

    const listed = await stack.call("GET", "/v1/runs?status=cancelled");
    expect(listed.body.runs.map((r: any) => r.id)).toContain(run.id);
    expect((await stack.call("GET", "/v1/runs?status=exploded")).status).toBe(400);
  });
});

describe("access control with API keys", () => {
  let stack: Stack;
  const keys = { requester: "req-key-0123456789", reviewer: "rev-key-0123456789" };
  beforeAll(async () => {
    stack = await startStack({
      API_KEYS: `carol:requester:${keys.requester},rita:reviewer:${keys.reviewer}`,
    });
  });
  afterAll(() => stack?.close());

  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  it("needs a key for /v1 and none for health", async () => {
    expect((await stack.call("GET", "/health")).status).toBe(200);
    const anon = await stack.call("GET", "/v1/status");
    expect(anon.status).toBe(401);
    expect((await stack.call("GET", "/v1/status", undefined, as("wrong-key-000000"))).status).toBe(401);
    expect((await stack.call("GET", "/v1/status", undefined, as(keys.requester))).status).toBe(200);
  });

  it("lets a requester ask but not approve; a reviewer approves and is recorded", async () => {
    const created = await stack.call("POST", "/v1/intents", { text: INTENT }, as(keys.requester));
    expect(created.status).toBe(201);
    const id = created.body.flow.id;
    const denied = await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, as(keys.requester));
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("forbidden");
    const ok = await stack.call(
      "POST",
      `/v1/flows/${id}/versions/1/approve`,
      { comment: "ok" },
      as(keys.reviewer),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.version).toMatchObject({ approvedBy: "rita", comment: "ok" });
    expect(JSON.stringify(ok.body)).not.toContain(keys.reviewer);
  });
});

describe("metrics and limits", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ RATE_LIMIT_PER_MINUTE: "30" });
  });
  afterAll(() => stack?.close());

  it("exposes Prometheus metrics per route pattern, planner, route decision and compile", async () => {
    await createFlow(stack);
    await stack.call("GET", "/v1/runs/00000000-0000-4000-8000-000000000000");
    const res = await fetch(`${stack.base}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain(
      'intentflow_http_requests_total{method="POST",route="/v1/intents",status="201"} 1',
    );
    expect(text).toContain(
      'intentflow_http_requests_total{method="GET",route="/v1/runs/:id",status="404"} 1',
    );
    expect(text).toContain('intentflow_route_decisions_total{engine="flow",level="simple"} 1');
    expect(text).toMatch(/intentflow_planner_duration_seconds_count\{planner="offline"\} 1/);
    expect(text).toMatch(/intentflow_compile_duration_seconds_count 1/);
  });

  it("answers 429 with Retry-After past the per-key rate, without touching the pipeline", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await stack.call("GET", "/v1/runs")).status);
    expect(statuses).toContain(429);
    const res = await fetch(`${stack.base}/v1/runs`);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as any).error.code).toBe("rate_limited");
  });
});
