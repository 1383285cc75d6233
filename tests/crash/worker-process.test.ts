import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestHosts, type TestHosts } from "../../fixtures/test-hosts/server";
import { makePlan, makeStep } from "../helpers/plans";
import { BACKENDS, type TestDatabase } from "../store/backends";
import { REDIS_URL } from "../engines/queues";
import { call, type ServiceProcess, startServiceProcess } from "./service-process";

/** `intentflow serve --no-worker` takes requests; `intentflow worker` processes run them. */
describe("API without a worker, and separate worker processes", () => {
  let hosts: TestHosts | undefined;
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  const procs: ServiceProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    await hosts?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs both engines' runs in `intentflow worker` processes, each command once", async () => {
    hosts = await startTestHosts([{ name: "web1", services: { nginx: "active" } }]);
    db = await BACKENDS.find((b) => b.name === "postgres")!.create();
    dir = mkdtempSync(join(tmpdir(), "intentflow-workers-"));
    const inventory = join(dir, "inventory.yaml");
    writeFileSync(inventory, hosts.inventoryYaml());
    const env = {
      DATABASE_URL: (db.config as { url: string }).url,
      REDIS_URL,
      QUEUE_PREFIX: `w${Date.now().toString(36)}`,
      INVENTORY_FILE: inventory,
      INTENTFLOW_TEST_SSH_PASSWORD: hosts.password,
    };
    const api = await startServiceProcess(env, ["serve", "--no-worker"]);
    procs.push(api);
    procs.push(await startServiceProcess(env, ["worker"]), await startServiceProcess(env, ["worker"]));
    const plan = makePlan(
      [makeStep("hello", { action: { kind: "ssh", command: "echo {{params.tag}}" }, targets: ["web1"] })],
      { params: [{ name: "tag", type: "string", description: null, default: null }] },
    );
    const ids: string[] = [];
    for (const engine of ["queue", "flow"]) {
      const created = await call(api.base, "POST", `/v1/plans?engine=${engine}&force=true`, plan);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.flow.id;
      expect((await call(api.base, "POST", `/v1/flows/${id}/versions/1/approve`, {})).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const r = await call(api.base, "POST", `/v1/flows/${id}/runs`, { params: { tag: `${engine}${i}` } });
        expect(r.status).toBe(202);
        ids.push(r.body.run.id);
      }
    }
    for (const id of ids) {
      const until = Date.now() + 30_000;
      let body: any;
      for (;;) {
        body = (await call(api.base, "GET", `/v1/runs/${id}`)).body;
        if (!["queued", "running"].includes(body.run?.status)) break;
        if (Date.now() > until)
          throw new Error(`run ${id} still ${body.run?.status}: ${procs.map((p) => p.output()).join("\n")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(body.run.status).toBe("succeeded");
    }
    const commands = hosts.commands("web1").map((c) => c.replace(/["']/g, ""));
    for (const tag of ["queue0", "queue1", "queue2", "flow0", "flow1", "flow2"])
      expect(
        commands.filter((c) => c === `echo ${tag}`),
        tag,
      ).toHaveLength(1);
  }, 90_000);
});
