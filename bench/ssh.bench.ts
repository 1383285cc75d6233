import ssh2, { type Client } from "ssh2";
import { parse } from "yaml";
import { startTestHosts, type TestHosts } from "../fixtures/test-hosts/server";
import { createSshCapability } from "../src/capabilities/ssh";
import { createInventory } from "../src/inventory";
import { type Benchmark, type Figure, percentile, round, sample, versus } from "./lib";

/**
 * The same command on 1, 10 and 50 simulated hosts through the pooled SSH capability, with
 * warm connections (reuse) and with a fresh capability per round (connect + authenticate +
 * exec), against the floor: a bare ssh2 exec on connections already open, in the same run.
 */

const { Client: SshClient } = ssh2;
const COMMAND = "uptime";
const ROUNDS = 7;
const PASSWORD = "bench-Passw0rd-ssh";

function bareConnect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new SshClient();
    // As the pool does: without it Nagle's algorithm adds ~40 ms per exchange and the floor is no floor.
    c.once("ready", () => resolve(c.setNoDelay(true))).once("error", reject);
    c.connect({ host: "127.0.0.1", port, username: "ops", password: PASSWORD, hostVerifier: () => true });
  });
}

function bareExec(c: Client): Promise<void> {
  return new Promise((resolve, reject) =>
    c.exec(COMMAND, (err, ch) => {
      if (err) return reject(err);
      ch.on("data", () => undefined).on("close", () => resolve());
      ch.stderr.on("data", () => undefined);
      ch.end();
    }),
  );
}

function inventoryOf(hosts: TestHosts) {
  return createInventory(parse(hosts.inventoryYaml()), { INTENTFLOW_TEST_SSH_PASSWORD: PASSWORD });
}

const median = (xs: number[]) => percentile(xs, 50);

async function fanOut(hosts: TestHosts, size: number): Promise<Figure[]> {
  const names = hosts.hosts.slice(0, size).map((h) => h.name);
  const clients = await Promise.all(hosts.hosts.slice(0, size).map((h) => bareConnect(h.port)));
  const floor = median(await sample(ROUNDS, () => Promise.all(clients.map(bareExec)), 2));
  for (const c of clients) c.end();

  const warm = createSshCapability({ inventory: inventoryOf(hosts) });
  const reuse = median(await sample(ROUNDS, () => Promise.all(names.map((n) => warm.exec(n, COMMAND))), 2));
  await warm.close();

  const fresh = median(
    await sample(ROUNDS, async () => {
      const cold = createSshCapability({ inventory: inventoryOf(hosts) });
      await Promise.all(names.map((n) => cold.exec(n, COMMAND)));
      await cold.close();
    }),
  );

  const base: Figure = { metric: `hosts_${size}.floor_bare_ssh2_total`, value: round(floor, 3), unit: "ms" };
  return [
    base,
    versus({ metric: `hosts_${size}.pool_reuse_total`, value: round(reuse, 3), unit: "ms" }, base),
    versus({ metric: `hosts_${size}.pool_no_reuse_total`, value: round(fresh, 3), unit: "ms" }, base),
    {
      metric: `hosts_${size}.pool_reuse_overhead_per_command`,
      value: round((reuse - floor) / size, 3),
      unit: "ms",
    },
    {
      metric: `hosts_${size}.no_reuse_overhead_per_command`,
      value: round((fresh - floor) / size, 3),
      unit: "ms",
    },
  ];
}

async function sequential(hosts: TestHosts): Promise<Figure[]> {
  const client = await bareConnect(hosts.hosts[0]!.port);
  const bare = median(await sample(50, () => bareExec(client), 10));
  client.end();
  const ssh = createSshCapability({ inventory: inventoryOf(hosts) });
  const pooled = median(await sample(50, () => ssh.exec(hosts.hosts[0]!.name, COMMAND), 10));
  await ssh.close();
  const base: Figure = { metric: "one_command.floor_bare_ssh2", value: round(bare, 3), unit: "ms" };
  return [base, versus({ metric: "one_command.pool_reuse", value: round(pooled, 3), unit: "ms" }, base)];
}

const bench: Benchmark = {
  name: "ssh",
  description: `"${COMMAND}" on 1, 10, 50 simulated hosts: pool with and without reuse vs bare ssh2 exec on open connections`,
  async run() {
    const hosts = await startTestHosts(
      Array.from({ length: 50 }, (_, i) => ({ name: `h${i + 1}` })),
      { password: PASSWORD },
    );
    try {
      const figures = await sequential(hosts);
      for (const size of [1, 10, 50]) figures.push(...(await fanOut(hosts, size)));
      return figures;
    } finally {
      await hosts.close();
    }
  },
};
export default bench;
