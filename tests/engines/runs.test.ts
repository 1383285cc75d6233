import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TestHostSpec } from "../../fixtures/test-hosts/server";
import { loadConfig } from "../../src/config";
import { createIntentflow, type Intentflow } from "../../src/service";
import type { Plan } from "../../src/plan/schema";
import { makePlan, makeStep } from "../helpers/plans";
import { type Stack, startStack } from "../helpers/stack";
import { BACKENDS, type TestDatabase } from "../store/backends";
import { REDIS_URL } from "./queues";

/**
 * Runs end to end through the service, on the in-process queue and on BullMQ with several
 * worker services sharing one Redis and one PostgreSQL.
 */

const HOSTS: TestHostSpec[] = [
  { name: "web1", services: { nginx: "active" } },
  { name: "web2", services: { nginx: "active" } },
  { name: "db1", services: {} },
];

function tagPlan(commands: string[], hosts = ["web1", "web2", "db1"]): Plan {
  return makePlan(
    commands.map((command, i) =>
      makeStep(`s${i + 1}`, {
        action: { kind: "ssh", command },
        targets: hosts,
        dependsOn: i ? [`s${i}`] : [],
      }),
    ),
    { params: [{ name: "tag", type: "string", description: null, default: null }] },
  );
}

async function approvedFlow(stack: Stack, plan: Plan, engine: "queue" | "flow"): Promise<string> {
  const created = await stack.call("POST", `/v1/plans?engine=${engine}&force=true`, plan);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.route.engine).toBe(engine);
  const id = created.body.flow.id as string;
  expect((await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {})).status).toBe(200);
  return id;
}

async function startRun(stack: Stack, flowId: string, params: Record<string, unknown>): Promise<string> {
  const r = await stack.call("POST", `/v1/flows/${flowId}/runs`, { params });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.run.id as string;
}

const unquoted = (commands: string[]) => commands.map((c) => c.replace(/["']/g, ""));

describe("cancelling a run", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it.each(["queue", "flow"] as const)(
    "reaches the in-flight SSH command on the %s engine and ends the run cancelled",
    async (engine) => {
      stack = await startStack({}, HOSTS);
      const flowId = await approvedFlow(
        stack,
        tagPlan(["sleep 20", "echo after {{params.tag}}"], ["web1"]),
        engine,
      );
      const runId = await startRun(stack, flowId, { tag: "x" });
      const deadline = Date.now() + 10_000;
      while (!stack.hosts.commands("web1").includes("sleep 20") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const t = Date.now();
      expect(await stack.svc.runs.requestCancel(runId)).toMatch(/requested|cancelled/);
      const result = await stack.waitForRun(runId, 10_000);
      expect(Date.now() - t).toBeLessThan(5_000);
      expect(result.run.status).toBe("cancelled");
      expect(unquoted(stack.hosts.commands("web1"))).not.toContain("echo after x");
    },
  );

  it("cancels a queued run that no process has taken", async () => {
    stack = await startStack({}, HOSTS);
    const flowId = await approvedFlow(stack, tagPlan(["echo {{params.tag}}"], ["web1"]), "queue");
    const version = await stack.svc.store.getVersion(flowId, 1);
    const id = "00000000-0000-4000-8000-00000000c0de";
    await stack.svc.store.insertRun({
      id,
      flowId,
      version: 1,
      engine: "queue",
      status: "queued",
      params: { tag: "never" },
      hash: version!.approvedHash!,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    });
    expect(await stack.svc.runs.requestCancel(id)).toBe("cancelled");
    expect((await stack.svc.store.getRun(id))?.status).toBe("cancelled");
    await stack.svc.runs.resumeUnfinished();
    expect(unquoted(stack.hosts.commands("web1"))).not.toContain("echo never");
  });
});

describe("two worker services on one Redis and one PostgreSQL", () => {
  let stack: Stack | undefined;
  let other: Intentflow | undefined;
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await other?.close();
    await stack?.close();
    await db?.drop();
    other = stack = db = undefined;
  });

  it("runs each job once, whichever worker takes it", async () => {
    db = await BACKENDS.find((b) => b.name === "postgres")!.create();
    const env = {
      DATABASE_URL: (db.config as { url: string }).url,
      REDIS_URL,
      QUEUE_PREFIX: `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`,
      RUN_LEASE_MS: "2000",
    };
    stack = await startStack(env, HOSTS);
    other = await createIntentflow(
      loadConfig({
        PORT: "0",
        LLM_PROVIDER: "offline",
        LOG_LEVEL: "silent",
        INVENTORY_FILE: join(stack.dir, "inventory.yaml"),
        ...env,
      }),
    );
    expect(stack.svc.queue.kind).toBe("bullmq");
    const queueFlow = await approvedFlow(
      stack,
      tagPlan(["echo a-{{params.tag}}", "echo b-{{params.tag}} && sleep 0.05", "echo c-{{params.tag}}"]),
      "queue",
    );
    const flowFlow = await approvedFlow(
      stack,
      tagPlan(["echo fa-{{params.tag}}", "echo fb-{{params.tag}}"]),
      "flow",
    );
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await startRun(stack, queueFlow, { tag: `q${i}` }));
    for (let i = 0; i < 4; i++) ids.push(await startRun(stack, flowFlow, { tag: `f${i}` }));
    // The other service resumes nothing it should not: runs held by a live claim are left alone.
    await other.runs.resumeUnfinished();
    for (const id of ids) expect((await stack.waitForRun(id, 30_000)).run.status).toBe("succeeded");

    for (const host of ["web1", "web2", "db1"]) {
      const counts = new Map<string, number>();
      for (const c of unquoted(stack.hosts.commands(host))) counts.set(c, (counts.get(c) ?? 0) + 1);
      for (let i = 0; i < 8; i++) {
        expect(counts.get(`echo a-q${i}`), `${host} a-q${i}`).toBe(1);
        expect(counts.get(`echo b-q${i} && sleep 0.05`), `${host} b-q${i}`).toBe(1);
        expect(counts.get(`echo c-q${i}`), `${host} c-q${i}`).toBe(1);
      }
      for (let i = 0; i < 4; i++) {
        expect(counts.get(`echo fa-f${i}`), `${host} fa-f${i}`).toBe(1);
        expect(counts.get(`echo fb-f${i}`), `${host} fb-f${i}`).toBe(1);
      }
    }
  }, 60_000);
});
