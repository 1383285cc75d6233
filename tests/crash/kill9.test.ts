import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestHosts, type TestHosts } from "../../fixtures/test-hosts/server";
import { openStore } from "../../src/store";
import { makePlan, makeStep } from "../helpers/plans";
import { BACKENDS, type TestDatabase } from "../store/backends";
import { call, type ServiceProcess, startServiceProcess } from "./service-process";

/**
 * kill -9 of the service with flow runs in flight, on each store: after a restart every run
 * completes, and no SSH command whose result was journaled runs again (counted on the host).
 */

const STEPS = 5;
const RUNS = 3;

function slowFlowPlan() {
  const steps = Array.from({ length: STEPS }, (_, i) =>
    makeStep(`s${i + 1}`, {
      action: { kind: "ssh", command: `echo {{params.tag}}-s${i + 1} && sleep 0.3` },
      targets: ["web1"],
      dependsOn: i ? [`s${i}`] : [],
    }),
  );
  return makePlan(steps, { params: [{ name: "tag", type: "string", description: null, default: null }] });
}

describe.each(BACKENDS)("kill -9 with flow runs in flight, store on $name", (backend) => {
  let hosts: TestHosts | undefined;
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  const services: ServiceProcess[] = [];

  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    await hosts?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("resumes every run after a restart and repeats no journaled command", async () => {
    hosts = await startTestHosts([{ name: "web1", services: { nginx: "active" } }]);
    db = await backend.create();
    dir = mkdtempSync(join(tmpdir(), "intentflow-crash-"));
    const inventory = join(dir, "inventory.yaml");
    writeFileSync(inventory, hosts.inventoryYaml());
    const env = {
      DATABASE_URL: db.config.kind === "sqlite" ? `sqlite:${db.config.path}` : db.config.url,
      QUEUE_BACKEND: "memory",
      INVENTORY_FILE: inventory,
      INTENTFLOW_TEST_SSH_PASSWORD: hosts.password,
      RUN_LEASE_MS: "1000",
    };
    const first = await startServiceProcess(env);
    services.push(first);

    const created = await call(first.base, "POST", "/v1/plans?engine=flow&force=true", slowFlowPlan());
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const flowId = created.body.flow.id;
    expect(created.body.route.engine).toBe("flow");
    expect((await call(first.base, "POST", `/v1/flows/${flowId}/versions/1/approve`, {})).status).toBe(200);
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await call(first.base, "POST", `/v1/flows/${flowId}/runs`, { params: { tag: `run${i}` } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      runIds.push(r.body.run.id);
    }
    // Let each run get a few commands done, then kill the process mid-command.
    const deadline = Date.now() + 20_000;
    while (hosts.commands("web1").length < RUNS * 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    await first.kill9();
    const seenAtKill = hosts.commands("web1").length;
    expect(seenAtKill).toBeLessThan(RUNS * STEPS);

    // What the journal holds now is what must not run again.
    const store = await openStore(db.config);
    const raw = db.raw();
    const journaled: string[] = [];
    try {
      for (const id of runIds) expect(["queued", "running"]).toContain((await store.getRun(id))?.status);
      const rows = await raw
        .selectFrom("journal")
        .select(["result_json"])
        .where("run_id", "in", runIds)
        .execute();
      for (const r of rows) {
        const stdout = (JSON.parse(r.result_json ?? "null") as { stdout?: string } | null)?.stdout;
        if (stdout?.trim()) journaled.push(stdout.trim());
      }
    } finally {
      await store.close();
      await raw.destroy();
    }
    expect(journaled.length).toBeGreaterThan(0);

    const second = await startServiceProcess(env);
    services.push(second);
    for (const id of runIds) {
      const until = Date.now() + 30_000;
      let run: any;
      for (;;) {
        run = (await call(second.base, "GET", `/v1/runs/${id}`)).body;
        if (!["queued", "running"].includes(run.run?.status)) break;
        if (Date.now() > until) throw new Error(`run ${id} still ${run.run?.status}:\n${second.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(run.run.status, `${JSON.stringify(run.run)}\n${second.output()}`).toBe("succeeded");
    }

    const commands = hosts.commands("web1");
    const counts = new Map<string, number>();
    for (const c of commands.map((x) => x.replace(/["']/g, ""))) counts.set(c, (counts.get(c) ?? 0) + 1);
    // Every step of every run ran; a command ran twice only if it was in flight at the kill (≤ one per run).
    for (let i = 0; i < RUNS; i++)
      for (let s = 1; s <= STEPS; s++)
        expect(counts.get(`echo run${i}-s${s} && sleep 0.3`) ?? 0).toBeGreaterThanOrEqual(1);
    const repeated = [...counts].filter(([, n]) => n > 1);
    expect(repeated.length).toBeLessThanOrEqual(RUNS);
    // A command whose result was journaled before the kill never reached the host again.
    for (const tag of journaled) expect(counts.get(`echo ${tag} && sleep 0.3`), tag).toBe(1);
  }, 90_000);
});
