import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";

/** Rows per table, read straight from the SQLite file: proof that refused input stored nothing. */
function rowCounts(stack: Stack): Record<string, number> {
  const db = new Database(join(stack.dir, "intentflow.db"), { readonly: true });
  try {
    return Object.fromEntries(
      ["plans", "flows", "flow_versions", "runs"].map((t) => [
        t,
        (db.prepare(`select count(*) n from ${t}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

describe("an intent, end to end over HTTP, on the flow engine", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("plans, routes to the flow engine, compiles, waits for approval, and restarts nginx only where it was down", async () => {
    const created = await stack.call("POST", "/v1/intents", { text: INTENT });
    expect(created.status).toBe(201);
    const { plan, route, flow } = created.body;
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual(["check_nginx", "restart_nginx"]);
    expect(route.engine).toBe("flow");
    expect(route.reason).toMatch(/condition/);
    expect(Object.keys(route.factors)).toHaveLength(6);
    expect(flow.status).toBe("pending");
    expect(flow.source).toContain("intentflow:sdk");
    expect(flow.source).toContain("systemctl is-active nginx");
    expect(flow.diagnostics).toEqual([]);

    const early = await stack.call("POST", `/v1/flows/${flow.id}/runs`, {});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("not_approved");

    const approved = await stack.call("POST", `/v1/flows/${flow.id}/versions/1/approve`, {
      comment: "looks right",
    });
    expect(approved.status).toBe(200);
    expect(approved.body.version.approvedHash).toBe(flow.hash);

    const started = await stack.call("POST", `/v1/flows/${flow.id}/runs`, {});
    expect(started.status).toBe(202);
    const result = await stack.waitForRun(started.body.run.id);
    expect(result.run.status).toBe("succeeded");

    const byKey = Object.fromEntries(result.steps.map((s: any) => [`${s.stepId}@${s.host}`, s]));
    expect(byKey["check_nginx@web1"]).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(byKey["check_nginx@web2"]).toMatchObject({ status: "failed", exitCode: 3 });
    expect(byKey["restart_nginx@web2"]).toMatchObject({ status: "succeeded", exitCode: 0, attempts: 1 });
    expect(byKey["restart_nginx@web1"]?.status ?? "skipped").toBe("skipped");

    // What the hosts themselves saw: one check each, one restart on web2 only.
    expect(stack.hosts.commands("web1").filter((c) => c.includes("restart"))).toEqual([]);
    expect(stack.hosts.commands("web2").filter((c) => c.includes("restart"))).toHaveLength(1);
    expect(stack.hosts.state("web2").services.nginx).toBe("active");
  });

  it("runs a legacy workflow's ssh steps on the queue engine", async () => {
    const legacy = {
      name: "uptime report",
      steps: [
        { id: "step_1", name: "Uptime", type: "ssh", host: "web1", command: "uptime", timeout: 30 },
        {
          id: "step_2",
          name: "Disk",
          type: "ssh",
          host: "web2",
          command: "df -P /",
          credentials: { password: "hunter2" },
        },
      ],
    };
    const created = await stack.call("POST", "/v1/plans", legacy);
    expect(created.status).toBe(201);
    expect(created.body.route.engine).toBe("queue");
    expect(created.body.flow.source).toBeUndefined();
    expect(JSON.stringify(created.body)).not.toContain("hunter2");

    const { id } = created.body.flow;
    expect((await stack.call("POST", `/v1/flows/${id}/versions/1/approve`)).status).toBe(200);
    const started = await stack.call("POST", `/v1/flows/${id}/runs`);
    expect(started.status).toBe(202);
    const result = await stack.waitForRun(started.body.run.id);
    expect(result.run).toMatchObject({ status: "succeeded", engine: "queue" });
    expect(result.steps.map((s: any) => [s.stepId, s.host, s.status])).toEqual(
      expect.arrayContaining([
        [expect.any(String), "web1", "succeeded"],
        [expect.any(String), "web2", "succeeded"],
      ]),
    );
    expect(stack.hosts.commands("web1")).toContain("uptime");
    expect(stack.hosts.commands("web2")).toContain("df -P /");
  });

  it("answers health and status", async () => {
    expect((await stack.call("GET", "/health")).body).toEqual({ status: "ok" });
    const status = (await stack.call("GET", "/v1/status")).body;
    expect(status.store).toEqual({ kind: "sqlite", reachable: true });
    expect(status.queue.backend).toBe("memory");
    expect(status.planner.provider).toBe("offline");
    expect(status.engines.flow.available).toBe(true);
  });
});

describe("bad input gets a 4xx naming the fault and stores nothing", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const cases: [string, string, unknown, number, string, string?][] = [
    ["POST", "/v1/intents", "{not json", 400, "invalid_json"],
    ["POST", "/v1/intents", {}, 400, "invalid_body", "text"],
    ["POST", "/v1/intents", { text: "" }, 400, "invalid_body", "text"],
    ["POST", "/v1/intents", { text: "   " }, 400, "invalid_body", "text"],
    ["POST", "/v1/intents", { text: 42 }, 400, "invalid_body", "text"],
    ["POST", "/v1/intents", { text: "x".repeat(5000) }, 400, "invalid_body", "text"],
    ["POST", "/v1/intents", { text: INTENT, engine: "celery" }, 400, "invalid_body", "engine"],
    ["POST", "/v1/intents", { text: INTENT, admin: true }, 400, "invalid_body"],
    ["POST", "/v1/intents", [INTENT], 400, "invalid_body"],
    ["POST", "/v1/intents", null, 400, "invalid_body"],
    ["POST", "/v1/intents", { text: "make me a sandwich" }, 422, "not_understood", "text"],
    [
      "POST",
      "/v1/intents",
      { text: "check nginx on mail9 and restart it where it is down" },
      422,
      "unknown_host",
    ],
    [
      "POST",
      "/v1/intents",
      { text: INTENT, engine: "queue", force: true },
      422,
      "route_impossible",
      "engine",
    ],
    ["POST", "/v1/plans", { steps: [] }, 400, "invalid_plan"],
    ["POST", "/v1/plans", { steps: [{ id: "a", type: "telnet", host: "web1" }] }, 400, "invalid_plan"],
    [
      "POST",
      "/v1/plans",
      { steps: [{ id: "a", name: "x", type: "ssh", host: "mail9", command: "uptime" }] },
      422,
      "unknown_host",
    ],
    [
      "POST",
      "/v1/plans",
      { steps: [{ id: "a", name: "x", type: "ssh", host: "web1", command: "rm -rf /" }] },
      422,
      "policy_denied",
    ],
    ["POST", "/v1/plans", { __proto__: { polluted: true }, steps: "nope" }, 400, "invalid_plan"],
    ["POST", "/v1/plans?engine=warp", { steps: [] }, 400, "invalid_body"],
    ["POST", "/v1/flows/not-a-uuid/runs", {}, 400, "invalid_body", "id"],
    ["POST", "/v1/flows/00000000-0000-4000-8000-000000000000/runs", {}, 404, "not_found"],
    ["POST", "/v1/flows/00000000-0000-4000-8000-000000000000/versions/1/approve", {}, 404, "not_found"],
    [
      "POST",
      "/v1/flows/00000000-0000-4000-8000-000000000000/versions/0/approve",
      {},
      400,
      "invalid_body",
      "version",
    ],
    ["GET", "/v1/runs/00000000-0000-4000-8000-000000000000", undefined, 404, "not_found"],
    ["GET", "/v1/nowhere", undefined, 404, "not_found"],
  ];

  it.each(cases)("%s %s %j → %i %s", async (method, path, body, status, code, field) => {
    const before = rowCounts(stack);
    const res = await stack.call(method, path, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(5);
    if (field) expect(res.body.error.field).toContain(field);
    expect(rowCounts(stack)).toEqual(before);
  });

  it("refuses a body over the size limit", async () => {
    const res = await stack.call(
      "POST",
      "/v1/plans",
      JSON.stringify({ steps: [], pad: "x".repeat(2 * 1024 * 1024) }),
    );
    expect(res.status).toBe(413);
  });

  it("refuses a body that is not JSON by content type", async () => {
    const res = await stack.call("POST", "/v1/intents", undefined, { "content-type": "text/plain" });
    expect([400, 415]).toContain(res.status);
  });
});
