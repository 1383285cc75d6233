import { mkdirSync, writeFileSync } from "node:fs";
import { startTestHosts } from "../fixtures/test-hosts/server";
import { loadConfig } from "./config";
import { listen } from "./server";
import { createIntentflow } from "./service";

/**
 * `npm run demo`: simulated SSH hosts (web1 with nginx up, web2 with nginx down, db1) and the
 * service pointed at them, in one process. Honours PORT; uses its own SQLite file.
 */
async function main(): Promise<void> {
  const hosts = await startTestHosts([
    { name: "web1", services: { nginx: "active" }, diskUsePercent: 41, packages: { nginx: "1.22.1-9" } },
    { name: "web2", services: { nginx: "inactive" }, diskUsePercent: 93, packages: { nginx: "1.22.1-9" } },
    {
      name: "db1",
      services: { postgresql: "active" },
      diskUsePercent: 67,
      packages: { postgresql: "15.19-0+deb12u1" },
    },
  ]);
  mkdirSync("data", { recursive: true });
  const inventoryFile = "data/demo-inventory.yaml";
  writeFileSync(inventoryFile, hosts.inventoryYaml());
  process.env.INTENTFLOW_TEST_SSH_PASSWORD = hosts.password;
  const config = loadConfig({
    ...process.env,
    INVENTORY_FILE: inventoryFile,
    DATABASE_URL: process.env.DATABASE_URL ?? "sqlite:./data/demo.db",
    LLM_PROVIDER: process.env.LLM_PROVIDER ?? "offline",
  });
  const svc = await createIntentflow(config);
  const server = await listen(svc);
  const base = `http://127.0.0.1:${server.port}`;
  console.log(`intentflow demo on ${base}  (review pages: ${base}/ui/, API reference: ${base}/docs)
  simulated hosts: ${hosts.hosts.map((h) => `${h.name} (ssh 127.0.0.1:${h.port})`).join(", ")}
  planner: ${svc.plannerReason}

  try:
    curl -s ${base}/v1/intents -H 'content-type: application/json' \\
      -d '{"text":"check nginx on web1 and web2 and restart it where it is down"}'
  then approve and run the flow it returns (see README.md). Ctrl-C stops.`);
  const stop = async () => {
    await server.close();
    await svc.close();
    await hosts.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(`demo: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
