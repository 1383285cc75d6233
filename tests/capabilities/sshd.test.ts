import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RealSshd, sshdAvailable, startSshd } from "../../fixtures/test-hosts/sshd/start";
import { createCapabilities } from "../../src/capabilities";
import { fingerprint } from "../../src/capabilities/host-key";
import { shellQuote } from "../../src/capabilities/shell-quote";
import { createInventory } from "../../src/inventory";

/**
 * The capabilities against OpenSSH's own sshd (one per file), logging in with a generated key:
 * real commands, exit codes and signals, streaming, PowerShell's encoding end to end, host
 * keys from a known_hosts file and first-use pins that survive a restart, and parameters that
 * try to break out of their quoting.
 */

let sshd: RealSshd;
const closers: { close(): Promise<void> }[] = [];
const kept: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  if (sshdAvailable()) sshd = await startSshd();
}, 20_000);
afterAll(async () => {
  await Promise.all(kept.map((c) => c.close()));
  await sshd?.close();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
});

function caps(hostExtra: Record<string, unknown> = {}, knownHostsFile?: string, keep = false) {
  const hostKey = fingerprint(Buffer.from(sshd.hostPublicKey.split(" ")[1]!, "base64"));
  const inventory = createInventory({
    hosts: {
      real: {
        address: "127.0.0.1",
        port: sshd.port,
        user: sshd.user,
        hostKey,
        credential: { privateKeyFile: sshd.clientKeyFile },
        ...hostExtra,
      },
    },
  });
  const c = createCapabilities({ inventory, ssh: { connectTimeoutMs: 5000, knownHostsFile } });
  (keep ? kept : closers).push(c);
  return c;
}

describe.skipIf(!sshdAvailable())("against OpenSSH sshd", () => {
  it("runs real commands with exit codes, stderr and signals", async () => {
    const { ssh } = caps();
    expect(await ssh.exec("real", "uname -s; echo oops >&2; exit 4")).toMatchObject({
      exitCode: 4,
      stdout: "Linux\n",
      stderr: "oops\n",
    });
    expect(await ssh.exec("real", "kill -TERM $$")).toMatchObject({ exitCode: null, signal: "SIGTERM" });
  });

  it("reuses one connection for many commands", async () => {
    const { ssh } = caps();
    for (let i = 0; i < 3; i++) expect((await ssh.exec("real", `echo ${i}`)).stdout).toBe(`${i}\n`);
    expect(ssh.openConnections("real")).toBe(1);
  });

  it("streams output as it arrives", async () => {
    const { ssh } = caps();
    const seen: { chunk: string; at: number }[] = [];
    const started = Date.now();
    await ssh.exec("real", "echo first; sleep 0.4; echo second", {
      onOutput: (_s, chunk) => seen.push({ chunk, at: Date.now() - started }),
    });
    expect(seen[0]!.chunk).toBe("first\n");
    expect(seen.at(-1)!.at - seen[0]!.at).toBeGreaterThan(250);
  });

  it("runs without a TTY and with stdin closed, so a password prompt cannot hang a step", async () => {
    const { ssh } = caps();
    const r = await ssh.exec("real", "tty; cat; echo after-stdin", { timeoutMs: 5000 });
    expect(r.stdout).toBe("not a tty\nafter-stdin\n");
  });

  it("ends a hanging command at its timeout", async () => {
    const { ssh } = caps();
    const started = Date.now();
    await expect(ssh.exec("real", "sleep 30", { timeoutMs: 500 })).rejects.toMatchObject({ code: "timeout" });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("sends PowerShell scripts encoded, and parses JSON output", async () => {
    const { powershell } = caps();
    const script = `Get-Service | Where-Object { $_.Name -eq 'it''s; $(rm -rf ~) \`n' } | ConvertTo-Json`;
    const r = await powershell.run("real", script);
    expect(r.exitCode).toBe(0);
    const data = r.data as { decoded: string; args: string[] };
    expect(data.decoded.endsWith(script)).toBe(true);
    expect(data.args).toEqual(["-NoLogo", "-NoProfile", "-NonInteractive"]);
    const failed = await powershell.run("real", "exit 3");
    expect(failed).toMatchObject({ exitCode: 3, data: null, stderr: "failing on purpose\n" });
  });

  it("verifies host keys from a known_hosts file, and refuses a key it does not list", async () => {
    const good = join(sshd.dir, "known_hosts_good");
    writeFileSync(good, `# comment\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const { ssh } = caps({ hostKey: undefined }, good);
    expect((await ssh.exec("real", "echo ok")).stdout).toBe("ok\n");

    const other = readFileSync(`${sshd.clientKeyFile}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
    const bad = join(sshd.dir, "known_hosts_bad");
    writeFileSync(bad, `[127.0.0.1]:${sshd.port} ${other}\n`);
    const refused = caps({ hostKey: undefined, trustOnFirstUse: true }, bad).ssh;
    await expect(refused.exec("real", "echo no")).rejects.toMatchObject({ code: "host_key_mismatch" });
  });

  it("pins a first-use key into the known_hosts file, where the next process finds it", async () => {
    const file = join(sshd.dir, "known_hosts_tofu");
    const first = caps({ hostKey: undefined, trustOnFirstUse: true }, file).ssh;
    expect((await first.exec("real", "true")).exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(
      `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey.split(" ").slice(0, 2).join(" ")}\n`,
    );
    // A restarted service without trustOnFirstUse still trusts the pinned key.
    const second = caps({ hostKey: undefined }, file).ssh;
    expect((await second.exec("real", "true")).exitCode).toBe(0);
  });

  describe("parameters that try to break out of their quoting", () => {
    let one: ReturnType<typeof createCapabilities> | undefined;
    const shared = () => (one ??= caps({}, undefined, true));
    it.each([
      ["a semicolon", "x; rm -f CANARY"],
      ["command substitution", "$(rm -f CANARY)"],
      ["backticks", "`rm -f CANARY`"],
      ["a newline", "x\nrm -f CANARY"],
      ["a closing quote", "x' ; rm -f CANARY; echo '"],
      ["&& and pipes", "x && rm -f CANARY | true"],
    ])("neutralises %s", async (_what, value) => {
      const canary = join(sshd.dir, `canary-${Math.random().toString(36).slice(2)}`);
      writeFileSync(canary, "alive");
      const param = value.replaceAll("CANARY", canary);
      const r = await shared().ssh.exec("real", `printf '%s' ${shellQuote(param)}`);
      expect(r.stdout).toBe(param);
      expect(existsSync(canary)).toBe(true);
    });
  });
});
