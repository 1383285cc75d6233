import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestHosts, type TestHosts } from "../../fixtures/test-hosts/server";
import { type Capabilities, createCapabilities } from "../../src/capabilities";
import { CALL_NAMES } from "../../src/capabilities/calls";
import { createCommandPolicy } from "../../src/capabilities/command-policy";
import { CapabilityError } from "../../src/capabilities/types";
import { CapabilityExecutor, type CallScope, type EngineCall } from "../../src/engines/capability-executor";
import { createInventory } from "../../src/inventory";
import type { Store } from "../../src/store/types";

/** The engines' door: every call in calls.ts, checked, journaled, and logged, against simulated hosts. */

const PASSWORD = "executor-Test-passw0rd";
let hosts: TestHosts;
let store: Store;
let caps: Capabilities;
let executor: CapabilityExecutor;
let webhook: Server;
const posted: unknown[] = [];
let n = 0;

beforeAll(async () => {
  hosts = await startTestHosts([{ name: "web1", services: { nginx: "active" } }, { name: "web2" }], {
    password: PASSWORD,
  });
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      posted.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  store = memoryStore();
  caps = createCapabilities({
    inventory: createInventory(parse(hosts.inventoryYaml()), { INTENTFLOW_TEST_SSH_PASSWORD: PASSWORD }),
    httpAllowHosts: [],
    ping: "tcp",
    notifyWebhookUrl: `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`,
    policy: createCommandPolicy({ deny: [{ program: "nginx", args: ["-s"], reason: "signals nginx" }] }),
  });
  executor = new CapabilityExecutor({ store, capabilities: caps });
});
afterAll(async () => {
  await caps?.close();
  await hosts?.close();
  webhook?.close();
});

function scope(over: Partial<CallScope> = {}): CallScope {
  return {
    runId: "run-1",
    key: `k${n++}`,
    stepId: "s1",
    host: "web1",
    approvedHosts: new Set(["web1"]),
    ...over,
  };
}

async function refusal(call: EngineCall, s = scope()): Promise<CapabilityError> {
  const e = await executor.execute(call, s).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(CapabilityError);
  return e as CapabilityError;
}

describe("CapabilityExecutor", () => {
  it("runs a command, streams its output into the run log, and journals the result", async () => {
    const s = scope({ runId: "run-stream" });
    const call: EngineCall = {
      name: "ssh.exec",
      args: { host: "web1", command: "echo one; echo two >&2; systemctl is-active nginx", timeoutMs: null },
    };
    const r = await executor.execute(call, s);
    expect(r).toMatchObject({ exitCode: 0, stdout: "one\nactive\n", stderr: "two\n" });
    const logs = (await store.logs("run-stream")).map((l) => `${l.level}:${l.message}`);
    expect(logs).toEqual(
      expect.arrayContaining([`info:$ ${call.args.command}`, "info:one", "warn:two", "info:active"]),
    );
    const before = hosts.commands("web1").length;
    expect(await executor.execute(call, s)).toEqual(r);
    expect(hosts.commands("web1").length).toBe(before);
  });

  it("refuses hosts the run was not approved for, for every host call", async () => {
    const calls: EngineCall[] = [
      { name: "ssh.exec", args: { host: "web2", command: "true", timeoutMs: null } },
      { name: "powershell.run", args: { host: "web2", script: "Get-Date", timeoutMs: null } },
      { name: "net.tcp", args: { host: "web2", port: 22, timeoutMs: null } },
      { name: "net.dns", args: { host: "web2", type: null } },
      { name: "net.ping", args: { host: "web2", timeoutMs: null } },
      {
        name: "http.request",
        args: {
          host: "web2",
          method: "GET",
          url: "http://web2/",
          headers: null,
          body: null,
          timeoutMs: null,
        },
      },
    ];
    for (const call of calls) expect((await refusal(call)).code).toBe("denied");
    expect(hosts.commands("web2")).toEqual([]);
  });

  it("refuses denied commands and scripts, with the admin's rules too", async () => {
    const rm = await refusal({
      name: "ssh.exec",
      args: { host: "web1", command: "rm -rf /", timeoutMs: null },
    });
    expect(rm.message).toMatch(/refused by policy: recursive delete/);
    const site = await refusal({
      name: "ssh.exec",
      args: { host: "web1", command: "nginx -s stop", timeoutMs: null },
    });
    expect(site.message).toMatch(/signals nginx/);
    const ps = await refusal({
      name: "powershell.run",
      args: { host: "web1", script: "Stop-Computer", timeoutMs: null },
    });
    expect(ps.message).toMatch(/script refused by policy/);
  });

  it("performs every call name in calls.ts", async () => {
    const port = hosts.hosts[0]!.port;
    const results: Record<string, unknown> = {};
    const calls: EngineCall[] = [
      { name: "ssh.exec", args: { host: "web1", command: "uptime", timeoutMs: 5000 } },
      { name: "powershell.run", args: { host: "web1", script: "Get-Date", timeoutMs: 5000 } },
      {
        name: "http.request",
        args: {
          host: "web1",
          method: "GET",
          url: `http://web1:${port}/`,
          headers: null,
          body: null,
          timeoutMs: 2000,
        },
      },
      { name: "net.tcp", args: { host: "web1", port, timeoutMs: 2000 } },
      { name: "net.dns", args: { host: "web1", type: null } },
      { name: "net.ping", args: { host: "web1", timeoutMs: 2000 } },
      { name: "sleep", args: { ms: 1 } },
      { name: "log", args: { level: "info", message: "hello" } },
      { name: "notify", args: { channel: "ops", message: "done" } },
    ];
    expect(calls.map((c) => c.name).sort()).toEqual([...CALL_NAMES].sort());
    for (const call of calls)
      results[call.name] = await executor.execute(call, scope({ runId: "run-all" })).catch((e: Error) => e);
    // The simulated host has no pwsh: the script reached it, encoded, and came back as exit 127.
    expect(results["powershell.run"]).toMatchObject({ exitCode: 127, data: null });
    expect(hosts.commands("web1").some((c) => /^pwsh .*-EncodedCommand [A-Za-z0-9+/=]+$/.test(c))).toBe(true);
    // An SSH port does not speak HTTP: a clear failure, not a hang.
    expect(results["http.request"]).toBeInstanceOf(CapabilityError);
    expect(results["net.tcp"]).toMatchObject({ ok: true });
    expect(results["net.dns"]).toEqual({ addresses: ["127.0.0.1"] });
    expect(results["net.ping"]).toMatchObject({ ok: true, method: "tcp" });
    expect(results.notify).toBeNull();
    expect(posted).toContainEqual(
      expect.objectContaining({ channel: "ops", message: "done", runId: "run-all" }),
    );
    const logs = (await store.logs("run-all")).map((l) => l.message);
    expect(logs).toEqual(expect.arrayContaining(["hello", "notify [ops] done"]));
  });

  it("turns a hanging command into a timeout error within its bound", async () => {
    const started = Date.now();
    const e = await refusal({
      name: "ssh.exec",
      args: { host: "web1", command: "sleep 30", timeoutMs: 300 },
    });
    expect(e.code).toBe("timeout");
    expect(e.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** The four store methods the executor uses, in memory: the store has its own suite. */
function memoryStore(): Store {
  const journal = new Map<string, { result: unknown }>();
  const logs: { runId: string; level: string; message: string }[] = [];
  const partial = {
    getJournal: async (runId: string, key: string) => journal.get(`${runId}/${key}`),
    putJournal: async (r: { runId: string; key: string; result: unknown }) => {
      journal.set(`${r.runId}/${r.key}`, r);
    },
    appendLog: async (l: { runId: string; level: string; message: string }) => {
      logs.push(l);
    },
    logs: async (runId: string) => logs.filter((l) => l.runId === runId),
  };
  return partial as unknown as Store;
}
