import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { Plan } from "../../src/plan/schema";
import { makePlan, makeStep } from "../helpers/plans";
import { type Stack, startStack } from "../helpers/stack";
import { BACKENDS, type TestDatabase } from "../store/backends";
import { freePort } from "./service-process";

/**
 * Faults under running runs: Redis restarted (a private redis-server on its own port, so no
 * other test is disturbed) and the store's PostgreSQL connections terminated (only those of
 * this test's own database). Runs pause and continue; nothing is lost or done twice.
 */

const HOSTS = [
  { name: "web1", services: { nginx: "active" as const } },
  { name: "web2", services: { nginx: "active" as const } },
];
const STEPS = 4;

function plan(): Plan {
  return makePlan(
    Array.from({ length: STEPS }, (_, i) =>
      makeStep(`s${i + 1}`, {
        action: { kind: "ssh", command: `echo {{params.tag}}-s${i + 1} && sleep 0.2` },
        targets: ["web1", "web2"],
        dependsOn: i ? [`s${i}`] : [],
      }),
    ),
    { params: [{ name: "tag", type: "string", description: null, default: null }] },
  );
}

async function startRuns(
  stack: Stack,
  engine: "queue" | "flow",
  n: number,
  prefix: string,
): Promise<string[]> {
  const created = await stack.call("POST", `/v1/plans?engine=${engine}&force=true`, plan());
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.flow.id as string;
  expect((await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {})).status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await stack.call("POST", `/v1/flows/${id}/runs`, { params: { tag: `${prefix}${i}` } });
    expect(r.status).toBe(202);
    ids.push(r.body.run.id);
  }
  return ids;
}

async function waitForCommands(stack: Stack, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (stack.hosts.commands("web1").length < n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}

function expectEachOnce(stack: Stack, tags: string[]): void {
  for (const host of ["web1", "web2"]) {
    const counts = new Map<string, number>();
    for (const c of stack.hosts.commands(host).map((x) => x.replace(/["']/g, "")))
      counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const tag of tags)
      for (let s = 1; s <= STEPS; s++)
        expect(counts.get(`echo ${tag}-s${s} && sleep 0.2`), `${host} ${tag}-s${s}`).toBe(1);
  }
}

describe("Redis restarted mid-run", () => {
  let redis: ChildProcess | undefined;
  let stack: Stack | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await stack?.close();
    redis?.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pauses the queue engine's runs and continues them, each command once", async () => {
    dir = mkdtempSync(join(tmpdir(), "intentflow-redis-"));
    const port = await freePort();
    // Append-only file, fsync on every write: what a Redis that BullMQ relies on must be.
    const startRedis = async () => {
      const child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"].concat([
          "--appendfsync",
          "always",
          "--dir",
          dir!,
        ]),
        { stdio: "ignore" },
      );
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync("redis-cli", ["-p", String(port), "ping"], { stdio: "pipe" });
          return child;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error("private redis-server did not start");
    };
    redis = await startRedis();
    stack = await startStack({ REDIS_URL: `redis://127.0.0.1:${port}`, RUN_LEASE_MS: "5000" }, HOSTS);
    expect(stack.svc.queue.kind).toBe("bullmq");
    const ids = await startRuns(stack, "queue", 4, "r");
    await waitForCommands(stack, 4);
    execFileSync("redis-cli", ["-p", String(port), "shutdown"], { stdio: "pipe" });
    await new Promise((r) => redis!.once("exit", r));
    await new Promise((r) => setTimeout(r, 1_000));
    redis = await startRedis();
    for (const id of ids) expect((await stack.waitForRun(id, 40_000)).run.status).toBe("succeeded");
    expectEachOnce(stack, ["r0", "r1", "r2", "r3"]);
  }, 60_000);
});

describe("PostgreSQL connections dropped mid-run", () => {
  let stack: Stack | undefined;
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await stack?.close();
    await db?.drop();
  });

  it("pauses runs on both engines and continues them, each command once", async () => {
    db = await BACKENDS.find((b) => b.name === "postgres")!.create();
    const url = (db.config as { url: string }).url;
    stack = await startStack({ DATABASE_URL: url, QUEUE_BACKEND: "memory" }, HOSTS);
    const ids = [...(await startRuns(stack, "queue", 3, "q")), ...(await startRuns(stack, "flow", 3, "f"))];
    await waitForCommands(stack, 6);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    let terminated = 0;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
        );
        terminated += r.rowCount ?? 0;
        await new Promise((res) => setTimeout(res, 250));
      }
    } finally {
      await admin.end();
    }
    expect(terminated).toBeGreaterThan(0);
    for (const id of ids) expect((await stack.waitForRun(id, 40_000)).run.status).toBe("succeeded");
    expectEachOnce(stack, ["q0", "q1", "q2", "f0", "f1", "f2"]);
  }, 60_000);
});
