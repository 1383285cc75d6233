/**
 * The world the plan corpus runs against: simulated SSH hosts (real ssh2 servers, real
 * ssh.exec through the SSH capability), a local HTTP server standing in for every host's
 * port 8080, real TCP connects to the hosts' SSH ports, and recorded notifications and sleeps.
 */
import { lookup } from "node:dns/promises";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { connect, createServer as createTcpServer } from "node:net";
import { parse } from "yaml";
import { startTestHosts, type TestHostSpec, type TestHosts } from "../../fixtures/test-hosts/server";
import { createSshCapability } from "../../src/capabilities/ssh";
import { createInventory } from "../../src/inventory";
import type { Inventory } from "../../src/inventory/types";
import type { Plan } from "../../src/plan/schema";
import type { CallContext, FlowEvent, RunFlowOptions } from "../../src/sandbox/runner";

export const CORPUS_HOSTS: TestHostSpec[] = [
  {
    name: "web1",
    services: { nginx: "active", app: "active", "app-previous": "inactive" },
    restartFails: ["app"],
  },
  { name: "web2", services: { nginx: "inactive" } },
  { name: "db1", services: { postgresql: "active" } },
  { name: "db2", services: { postgresql: "active" } },
  { name: "win1", groups: ["windows"] },
];

/** Service states every run starts from (restored over SSH before each plan). */
const BASELINE: Record<string, string[]> = {
  web1: ["sudo systemctl start nginx"],
  web2: ["sudo systemctl stop nginx"],
  db1: ["sudo systemctl start postgresql"],
};

/** What one run did, besides the commands each host saw. */
export type Observed = {
  events: FlowEvent[];
  http: string[];
  notifications: string[];
  sleeps: number[];
  powershell: string[];
  tcp: string[];
};

type AnyCall = { name: string; args: Record<string, unknown> };

export type CorpusWorld = {
  hosts: TestHosts;
  inventory: Inventory;
  /** Runs `fn` with a fresh record; returns it with the commands each host saw meanwhile. */
  observe(
    fn: (call: RunFlowOptions["call"], onEvent: RunFlowOptions["onEvent"]) => Promise<unknown>,
  ): Promise<Observed & { commands: Record<string, string[]> }>;
  targets(plan: Plan): Record<string, string[]>;
  close(): Promise<void>;
};

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function tcpConnect(
  port: number,
  timeoutMs: number,
): Promise<{ ok: boolean; latencyMs: number | null; error: string | null }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: timeoutMs });
    const done = (error: string | null) => {
      socket.destroy();
      resolve({ ok: !error, latencyMs: error ? null : Math.round(performance.now() - start), error });
    };
    socket.once("connect", () => done(null));
    socket.once("timeout", () => done("timed out"));
    socket.once("error", (e) => done(e.message));
  });
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text));
  });

export async function startCorpusWorld(): Promise<CorpusWorld> {
  const hosts = await startTestHosts(CORPUS_HOSTS);
  const inventory = createInventory(parse(hosts.inventoryYaml()), {
    INTENTFLOW_TEST_SSH_PASSWORD: hosts.password,
  });
  const ssh = createSshCapability({ inventory, connectTimeoutMs: 5_000 });
  const refused = await closedPort();
  let record: Observed = { events: [], http: [], notifications: [], sleeps: [], powershell: [], tcp: [] };
  let deployPolls = 0;

  // One HTTP server plays port 8080 of every host; the host asked for comes in x-test-host.
  const web = createHttpServer(async (req, res) => {
    const host = String(req.headers["x-test-host"]);
    const text = await body(req);
    record.http.push(`${host} ${req.method} ${req.url}${text ? ` ${text}` : ""}`);
    const reply = (status: number, out: string) => res.writeHead(status).end(out);
    if (req.url === "/health") return reply(host === "web2" ? 503 : 200, host === "web2" ? "down" : "ok");
    if (req.method === "POST" && req.url?.startsWith("/deploy?")) return reply(202, "accepted");
    if (req.url === "/deploy/status") return reply(200, ++deployPolls >= 3 ? "done" : "pending");
    return reply(404, "not found");
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  const webPort = (web.address() as { port: number }).port;
  const sshPort = (host: string) => hosts.hosts.find((h) => h.name === host)?.port ?? refused;

  const call = async (c: AnyCall, ctx: CallContext): Promise<unknown> => {
    const a = c.args;
    switch (c.name) {
      case "ssh.exec": {
        const { durationMs: _, ...result } = await ssh.exec(String(a.host), String(a.command), {
          signal: ctx.signal,
          ...(typeof a.timeoutMs === "number" ? { timeoutMs: a.timeoutMs } : {}),
        });
        return result;
      }
      case "sleep":
        record.sleeps.push(Number(a.ms));
        return null;
      case "notify":
        record.notifications.push(`${String(a.channel)}: ${String(a.message)}`);
        return null;
      case "powershell.run": {
        const script = String(a.script);
        record.powershell.push(`${String(a.host)}: ${script}`);
        const stdout = script.includes("Get-Service") ? "Stopped\r\n" : "";
        return { exitCode: 0, signal: null, stdout, stderr: "", truncated: false, data: null };
      }
      case "http.request": {
        const url = new URL(String(a.url));
        const res = await fetch(`http://127.0.0.1:${webPort}${url.pathname}${url.search}`, {
          method: String(a.method),
          headers: { "x-test-host": url.hostname },
          ...(typeof a.body === "string" ? { body: a.body } : {}),
          signal: ctx.signal,
        });
        return {
          status: res.status,
          headers: [...res.headers],
          body: await res.text(),
          truncated: false,
          durationMs: 1,
        };
      }
      case "net.tcp": {
        const port = Number(a.port) === 22 ? sshPort(String(a.host)) : refused;
        record.tcp.push(`${String(a.host)}:${String(a.port)}`);
        return tcpConnect(port, typeof a.timeoutMs === "number" ? a.timeoutMs : 2_000);
      }
      case "net.ping":
        return { ...(await tcpConnect(sshPort(String(a.host)), 2_000)), method: "tcp" };
      case "net.dns":
        return { addresses: (await lookup("localhost", { all: true, family: 4 })).map((r) => r.address) };
      default:
        throw new Error(`the corpus world does not perform ${c.name}`);
    }
  };

  const names = hosts.hosts.map((h) => h.name);
  return {
    hosts,
    inventory,
    async observe(fn) {
      for (const [host, commands] of Object.entries(BASELINE))
        for (const command of commands) await ssh.exec(host, command);
      record = { events: [], http: [], notifications: [], sleeps: [], powershell: [], tcp: [] };
      deployPolls = 0;
      const seen = Object.fromEntries(names.map((n) => [n, hosts.commands(n).length]));
      await fn(
        (c, ctx) => call(c as unknown as AnyCall, ctx),
        (e) => record.events.push(e),
      );
      const commands = Object.fromEntries(
        names.map((n) => [n, hosts.commands(n).slice(seen[n])]).filter(([, c]) => c!.length),
      ) as Record<string, string[]>;
      return { ...record, commands };
    },
    targets(plan) {
      const params = new Map(plan.params.map((p) => [p.name, p.default]));
      const out: Record<string, string[]> = {};
      for (const s of plan.steps) {
        if (!s.targets) continue;
        const selectors = s.targets.flatMap((t) => {
          const m = /^\{\{\s*params\.(\w+)\s*\}\}$/.exec(t);
          if (!m) return [t];
          const d = params.get(m[1]!);
          return Array.isArray(d) ? d : typeof d === "string" ? [d] : [];
        });
        out[s.id] = inventory.resolve(selectors);
      }
      return out;
    },
    async close() {
      await ssh.close();
      await new Promise((r) => web.close(r));
      await hosts.close();
    },
  };
}
