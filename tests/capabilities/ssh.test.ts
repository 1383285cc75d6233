import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestHosts, type TestHosts } from "../../fixtures/test-hosts/server";
import { createSshCapability, type SshCapabilityOptions } from "../../src/capabilities/ssh";
import { CapabilityError } from "../../src/capabilities/types";
import { createInventory } from "../../src/inventory";

/**
 * The SSH capability against real SSH servers (fixtures/test-hosts). Every test goes over
 * TCP, key exchange, password authentication and an exec channel.
 */

const PASSWORD = "correct-H0rse-battery-staple";
const WRONG_PASSWORD = "pl4nted-Wrong-p4ssword";

let hosts: TestHosts;
const capabilities: { close(): Promise<void> }[] = [];
const errorsSeen: unknown[] = [];

beforeAll(async () => {
  hosts = await startTestHosts(
    [
      { name: "web1", services: { nginx: "active" }, packages: { nginx: "1.22.1-9" } },
      { name: "web2", services: { nginx: "inactive" } },
      { name: "huge", hugeOutputBytes: 3 * 1024 * 1024 },
      { name: "slow", slowConnectMs: 3000 },
      { name: "flaky", dropAfterMs: 300 },
      { name: "evil", wrongHostKey: true },
    ],
    { password: PASSWORD },
  );
});
afterAll(async () => {
  await hosts?.close();
});
afterEach(async () => {
  await Promise.all(capabilities.splice(0).map((c) => c.close()));
});

type InventoryEdit = (hosts: Record<string, Record<string, unknown>>) => void;

function capability(
  options: Partial<SshCapabilityOptions> = {},
  env: NodeJS.ProcessEnv = { INTENTFLOW_TEST_SSH_PASSWORD: PASSWORD },
  edit?: InventoryEdit,
) {
  const data = parse(hosts.inventoryYaml());
  edit?.(data.hosts);
  const ssh = createSshCapability({
    inventory: createInventory(data, env),
    connectTimeoutMs: 2000,
    ...options,
  });
  capabilities.push(ssh);
  return ssh;
}

async function failure(promise: Promise<unknown>): Promise<CapabilityError> {
  try {
    await promise;
  } catch (e) {
    errorsSeen.push(e);
    expect(e).toBeInstanceOf(CapabilityError);
    return e as CapabilityError;
  }
  throw new Error("expected the call to fail");
}

describe("exec", () => {
  it("returns stdout, stderr and exit codes", async () => {
    const ssh = capability();
    expect(await ssh.exec("web1", "systemctl is-active nginx")).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: "active\n",
      stderr: "",
      truncated: false,
    });
    expect(await ssh.exec("web2", "systemctl is-active nginx")).toMatchObject({
      exitCode: 3,
      stdout: "inactive\n",
    });
    expect(await ssh.exec("web1", "nginx -v")).toMatchObject({
      exitCode: 0,
      stdout: "",
      stderr: "nginx version: nginx/1.22.1\n",
    });
    expect(await ssh.exec("web1", "exit 42")).toMatchObject({ exitCode: 42 });
    expect(await ssh.exec("web1", "frobnicate --now")).toMatchObject({
      exitCode: 127,
      stderr: "sh: 1: frobnicate: not found\n",
    });
    const r = await ssh.exec("web2", "sudo systemctl restart nginx && systemctl is-active nginx");
    expect(r).toMatchObject({ exitCode: 0, stdout: "active\n" });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(hosts.state("web2").services.nginx).toBe("active");
    expect(hosts.commands("web2")).toContain("sudo systemctl restart nginx && systemctl is-active nginx");
    expect(hosts.commands("web1").some((c) => c.includes("restart"))).toBe(false);
  });

  it("refuses unknown hosts and malformed commands before connecting", async () => {
    const ssh = capability();
    expect((await failure(ssh.exec("nope", "true"))).code).toBe("unknown_host");
    expect((await failure(ssh.exec("web1", ""))).code).toBe("invalid_argument");
    expect((await failure(ssh.exec("web1", "echo a\0b"))).code).toBe("invalid_argument");
    expect((await failure(ssh.exec("web1", "true", { timeoutMs: -1 }))).code).toBe("invalid_argument");
  });

  it("streams output through onOutput as it arrives", async () => {
    const ssh = capability();
    const chunks: { stream: string; text: string; at: number }[] = [];
    const started = Date.now();
    const r = await ssh.exec("web1", "echo first; nginx -v; sleep 0.4; echo second", {
      onOutput: (stream, text) => chunks.push({ stream, text, at: Date.now() - started }),
    });
    expect(r.stdout).toBe("first\nsecond\n");
    const first = chunks.find((c) => c.text.includes("first"))!;
    const second = chunks.find((c) => c.text.includes("second"))!;
    expect(chunks.find((c) => c.stream === "stderr")?.text).toContain("nginx version");
    expect(second.at - first.at).toBeGreaterThanOrEqual(300);
  });

  it("caps output per stream and says so", async () => {
    const ssh = capability({ outputCapBytes: 1000 });
    const seq = await ssh.exec("web1", "seq 1 200000");
    expect(seq).toMatchObject({ exitCode: 0, truncated: true });
    expect(seq.stdout.length).toBe(1000);
    expect(seq.stdout.startsWith("1\n2\n3\n")).toBe(true);
    let streamed = 0;
    const huge = await ssh.exec("huge", "cat /var/log/huge.log", {
      onOutput: (_s, t) => {
        streamed += t.length;
      },
    });
    expect(huge).toMatchObject({ exitCode: 0, truncated: true });
    expect(huge.stdout.length).toBe(1000);
    expect(streamed).toBe(1000);
    expect((await ssh.exec("web1", "echo small")).truncated).toBe(false);
  });
});

describe("connection pool", () => {
  it("runs many commands over one connection", async () => {
    const before = hosts.connectionsAccepted("web1");
    const ssh = capability();
    for (let i = 0; i < 10; i++) expect((await ssh.exec("web1", `echo ${i}`)).stdout).toBe(`${i}\n`);
    expect(hosts.connectionsAccepted("web1") - before).toBe(1);
    expect(ssh.openConnections("web1")).toBe(1);
  });

  it("bounds connections per host and queues the rest", async () => {
    const before = hosts.connectionsAccepted("web2");
    const ssh = capability({ maxConnectionsPerHost: 2 });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ssh.exec("web2", `sleep 0.2; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(["0\n", "1\n", "2\n", "3\n", "4\n", "5\n"]);
    expect(hosts.connectionsAccepted("web2") - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it("replaces a connection the server closed, without the caller noticing", async () => {
    const ssh = capability();
    const before = hosts.connectionsAccepted("web1");
    await ssh.exec("web1", "true");
    await hosts.dropConnections("web1");
    expect((await ssh.exec("web1", "echo again")).stdout).toBe("again\n");
    expect(hosts.connectionsAccepted("web1") - before).toBe(2);
  });

  it("recovers when the connection dies just as a command starts", async () => {
    const ssh = capability();
    for (let i = 0; i < 5; i++) {
      await ssh.exec("web1", "true");
      const dropping = hosts.dropConnections("web1");
      expect((await ssh.exec("web1", `echo once-${i}`)).stdout).toBe(`once-${i}\n`);
      await dropping;
      // Retried only when the command provably never reached the host: it ran exactly once.
      expect(hosts.commands("web1").filter((c) => c === `echo once-${i}`)).toHaveLength(1);
    }
  });

  it("replaces connections a server times out while idle", async () => {
    const ssh = capability();
    const before = hosts.connectionsAccepted("flaky");
    await ssh.exec("flaky", "true");
    await new Promise((r) => setTimeout(r, 500));
    expect((await ssh.exec("flaky", "echo ok")).stdout).toBe("ok\n");
    expect(hosts.connectionsAccepted("flaky") - before).toBe(2);
  });

  it("closes idle connections after idleMs", async () => {
    const ssh = capability({ idleMs: 150 });
    await ssh.exec("web1", "true");
    expect(ssh.openConnections("web1")).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(ssh.openConnections("web1")).toBe(0);
    expect((await ssh.exec("web1", "echo back")).stdout).toBe("back\n");
  });

  it("refuses work after close()", async () => {
    const ssh = capability();
    await ssh.exec("web1", "true");
    await ssh.close();
    expect(ssh.openConnections("web1")).toBe(0);
    expect((await failure(ssh.exec("web1", "true"))).code).toBe("failed");
  });
});

describe("timeouts and cancellation", () => {
  it("ends a command at its timeout and interrupts it on the host", async () => {
    const ssh = capability();
    const started = Date.now();
    const e = await failure(ssh.exec("web1", "sleep 0.6 && systemctl stop cron", { timeoutMs: 300 }));
    expect(e.code).toBe("timeout");
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/web1 timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(1000);
    // Had the remote command survived, cron would be stopped by now.
    await new Promise((r) => setTimeout(r, 600));
    expect(hosts.state("web1").services.cron).toBe("active");
    // The capability keeps working on a fresh connection.
    expect((await ssh.exec("web1", "echo alive")).stdout).toBe("alive\n");
  });

  it("applies the default command timeout", async () => {
    const ssh = capability({ commandTimeoutMs: 200 });
    expect((await failure(ssh.exec("web1", "sleep 3"))).code).toBe("timeout");
  });

  it("cancels a running command through its AbortSignal", async () => {
    const ssh = capability();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    const e = await failure(ssh.exec("web1", "sleep 5", { signal: controller.signal }));
    expect(e.code).toBe("cancelled");
    expect(e.retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("does not run a command whose signal is already aborted", async () => {
    const ssh = capability();
    const before = hosts.commands("web2").length;
    const e = await failure(ssh.exec("web2", "echo never", { signal: AbortSignal.abort() }));
    expect(e.code).toBe("cancelled");
    expect(hosts.commands("web2").length).toBe(before);
  });

  it("cancels a caller still waiting for a pool slot", async () => {
    const ssh = capability({ maxConnectionsPerHost: 1 });
    const busy = ssh.exec("web1", "sleep 0.5");
    const controller = new AbortController();
    const waiting = ssh.exec("web1", "echo queued", { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await failure(waiting)).code).toBe("cancelled");
    expect((await busy).exitCode).toBe(0);
    expect(hosts.commands("web1")).not.toContain("echo queued");
  });
});

describe("connecting", () => {
  it("refuses a host whose key does not match the pinned one", async () => {
    const ssh = capability();
    const e = await failure(ssh.exec("evil", "echo should-not-run"));
    expect(e.code).toBe("host_key_mismatch");
    expect(e.message).toContain(hosts.hostKeyFingerprint);
    expect(hosts.commands("evil")).toEqual([]);
  });

  it("refuses a host with no pinned key unless trustOnFirstUse", async () => {
    const unpinned = capability(undefined, undefined, (h) => {
      delete h.web1!.hostKey;
    });
    const e = await failure(unpinned.exec("web1", "true"));
    expect(e.code).toBe("host_key_mismatch");
    expect(e.message).toMatch(/no pinned host key/);

    const tofu = capability(undefined, undefined, (h) => {
      delete h.web1!.hostKey;
      h.web1!.trustOnFirstUse = true;
    });
    expect((await tofu.exec("web1", "echo trusted")).stdout).toBe("trusted\n");
  });

  it("pins the first key seen under trustOnFirstUse and refuses a different one later", async () => {
    const first = await startTestHosts([{ name: "moving" }], { password: PASSWORD });
    const port = first.hosts[0]!.port;
    const inventory = createInventory(
      {
        hosts: {
          moving: {
            address: "127.0.0.1",
            port,
            user: "ops",
            trustOnFirstUse: true,
            credential: { passwordEnv: "PW" },
          },
        },
      },
      { PW: PASSWORD },
    );
    const ssh = createSshCapability({ inventory, connectTimeoutMs: 2000 });
    capabilities.push(ssh);
    expect((await ssh.exec("moving", "true")).exitCode).toBe(0);
    await first.close();
    // The same address comes back with a new key, as after a reinstall or an interception.
    const second = await startTestHosts([{ name: "moving" }], { password: PASSWORD, basePort: port });
    try {
      const e = await failure(ssh.exec("moving", "echo should-not-run"));
      expect(e.code).toBe("host_key_mismatch");
      expect(e.message).toContain(
        `expected ${first.hostKeyFingerprint}, server offered ${second.hostKeyFingerprint}`,
      );
      expect(second.commands("moving")).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("reports a wrong password as auth_failed without quoting any password", async () => {
    const ssh = capability({}, { INTENTFLOW_TEST_SSH_PASSWORD: WRONG_PASSWORD });
    const e = await failure(ssh.exec("web1", "true"));
    expect(e.code).toBe("auth_failed");
    expect(e.retryable).toBe(false);
    expect(e.message).toBe("authentication as ops on web1 failed");
  });

  it("reports a missing credential as auth_failed naming the variable", async () => {
    const ssh = capability({}, {});
    const e = await failure(ssh.exec("web1", "true"));
    expect(e.code).toBe("auth_failed");
    expect(e.message).toContain("INTENTFLOW_TEST_SSH_PASSWORD");
  });

  it("reports a refused connection as connect_failed", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const ssh = capability({}, undefined, (h) => {
      h.web1!.port = closedPort;
    });
    const e = await failure(ssh.exec("web1", "true"));
    expect(e.code).toBe("connect_failed");
    expect(e.retryable).toBe(true);
    expect(e.message).toContain("ECONNREFUSED");
    expect(e.message).not.toContain("127.0.0.1");
  });

  it("gives up connecting at connectTimeoutMs", async () => {
    const ssh = capability({ connectTimeoutMs: 300 });
    const started = Date.now();
    const e = await failure(ssh.exec("slow", "true"));
    expect(e.code).toBe("connect_failed");
    expect(e.message).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("bounds the whole call, connecting included, by the command timeout", async () => {
    const ssh = capability({ connectTimeoutMs: 10_000 });
    const started = Date.now();
    expect((await failure(ssh.exec("slow", "true", { timeoutMs: 300 }))).code).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe("secrets", () => {
  it("never puts a password in an error, whatever went wrong", async () => {
    // A password that is also planted where a careless message might pick it up: the
    // environment of a host whose key is wrong, and a wrong-password login.
    const wrong = capability({}, { INTENTFLOW_TEST_SSH_PASSWORD: WRONG_PASSWORD });
    const right = capability({ connectTimeoutMs: 200 });
    await failure(wrong.exec("web1", "true"));
    await failure(wrong.exec("evil", "true"));
    await failure(right.exec("evil", "true"));
    await failure(right.exec("slow", "true"));
    await failure(right.exec("web1", "sleep 2", { timeoutMs: 100 }));
    await failure(right.exec("web1", "sleep 2", { signal: AbortSignal.timeout(100) }));
    await failure(capability({}, {}).exec("web1", "true"));
    expect(errorsSeen.length).toBeGreaterThanOrEqual(7);
    for (const e of errorsSeen) {
      let text = "";
      for (let x: unknown = e; x instanceof Error; x = x.cause)
        text += `${x.message}\n${x.stack}\n${JSON.stringify(x)}\n`;
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(WRONG_PASSWORD);
    }
  });
});

describe("host key fingerprints", () => {
  const keyscan = spawnSync("ssh-keyscan", ["-V"]).error === undefined;
  it.skipIf(!keyscan)("match what OpenSSH reports for the same server", async () => {
    const port = String(hosts.hosts.find((h) => h.name === "web1")!.port);
    const scanned = await run("ssh-keyscan", ["-p", port, "127.0.0.1"]);
    const listed = await run("ssh-keygen", ["-lf", "-"], scanned);
    expect(listed.split(" ")[1]).toBe(hosts.hostKeyFingerprint);
  });
});

/** Runs a program without blocking the event loop the SSH servers live on. */
function run(program: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: 10_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end(input ?? "");
  });
}
