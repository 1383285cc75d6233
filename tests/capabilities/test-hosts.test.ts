import { describe, expect, it } from "vitest";
import { runAwk } from "../../fixtures/test-hosts/awk";
import { SimulatedHost } from "../../fixtures/test-hosts/host";
import { runCommandLine } from "../../fixtures/test-hosts/shell";
import type { TestHostSpec } from "../../fixtures/test-hosts/state";
import { linux } from "../../src/plan/offline/commands";

/**
 * The simulated hosts' shell, run directly (ssh.test.ts covers the SSH side): tests and the
 * demo rely on it answering like a Debian server would.
 */

async function sh(
  line: string,
  spec: Partial<TestHostSpec> = {},
  host = new SimulatedHost({ name: "web1", ...spec }, "ops"),
) {
  let stdout = "";
  let stderr = "";
  const code = await runCommandLine(host, line, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr, host };
}

describe("simulated shell", () => {
  it.each([
    ["echo 'a  b' \"c $USER\" d\\ e", "a  b c ops d e\n", 0],
    ["echo 'it'\\''s' \"$(not run)\" 2>/dev/null || echo fallback", "", 2],
    ["echo '$(id)' '`id`'", "$(id) `id`\n", 0],
    ["true && echo yes || echo no", "yes\n", 0],
    ["false && echo yes || echo no", "no\n", 0],
    ["false; echo $?", "1\n", 0],
    ["false || true && echo chained", "chained\n", 0],
    ["echo one; exit 7; echo two", "one\n", 7],
    ["exit", "", 0],
    ["echo a\necho b", "a\nb\n", 0],
    ["seq 1 5 | tail -n 2", "4\n5\n", 0],
    ["seq 10 | head -3 | wc -l", "3\n", 0],
    ["nginx -v 2>&1", "nginx version: nginx/1.22.1\n", 0],
    ["nginx -v 2>/dev/null", "", 0],
    ["echo hi > /tmp/x; cat /tmp/x; echo more >> /tmp/x; cat < /tmp/x", "hi\nhi\nmore\n", 0],
    ["[ 3 -gt 2 ] && test -f /etc/os-release && [ -n x ]", "", 0],
    ["/usr/bin/hostname", "web1\n", 0],
    ["sudo -n -u root systemctl is-active nginx", "active\n", 0],
    ["# just a comment", "", 0],
  ])("%j", async (line, stdout, code) => {
    const r = await sh(line, { services: { nginx: "active" }, packages: { nginx: "1.22.1-9" } });
    expect(r.stdout).toBe(stdout);
    expect(r.code).toBe(code);
  });

  it.each([
    ["echo `id`", /command substitution/],
    ["sleep 1 &", /background jobs/],
    ["(cd /; ls)", /subshells/],
    ["&& true", /syntax error/],
    ["true |", /syntax error/],
    ["echo 'open", /unterminated/],
  ])("refuses %j loudly", async (line, message) => {
    const r = await sh(line);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("answers unknown programs like dash does", async () => {
    expect(await sh("frobnicate x")).toMatchObject({ code: 127, stderr: "sh: 1: frobnicate: not found\n" });
    expect(await sh("nginx -v")).toMatchObject({ code: 127, stderr: "sh: 1: nginx: not found\n" });
  });

  it("runs systemctl against the simulated services", async () => {
    const host = new SimulatedHost(
      { name: "web2", services: { nginx: "inactive", app: "failed" }, restartFails: ["app"] },
      "ops",
    );
    expect(await sh("systemctl is-active nginx", {}, host)).toMatchObject({ code: 3, stdout: "inactive\n" });
    expect(await sh("systemctl is-active nosuch", {}, host)).toMatchObject({ code: 3, stdout: "inactive\n" });
    expect((await sh("systemctl status nginx.service", {}, host)).stdout).toContain(
      "Active: inactive (dead)",
    );
    expect(await sh("systemctl status nosuch", {}, host)).toMatchObject({ code: 4 });
    expect(await sh("sudo systemctl restart nginx", {}, host)).toMatchObject({ code: 0 });
    expect(host.state.services.nginx).toBe("active");
    expect((await sh("ss -ltn", {}, host)).stdout).toMatch(/0\.0\.0\.0:80 /);
    expect(await sh("sudo systemctl restart app", {}, host)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("app.service failed"),
    });
    expect(host.state.services.app).toBe("failed");
    expect(await sh("sudo systemctl restart nosuch", {}, host)).toMatchObject({ code: 5 });
    expect(await sh("systemctl stop nginx && systemctl is-active --quiet nginx", {}, host)).toMatchObject({
      code: 3,
      stdout: "",
    });
  });

  it("reports disk, memory, load, kernel and packages from the spec", async () => {
    const spec = {
      diskUsePercent: 93,
      memory: { totalMb: 8000, usedMb: 6000 },
      load: [2.5, 1.25, 0.5],
      kernel: "6.8.0-45-generic",
      packages: { nginx: "1:1.24.0-2ubuntu7" },
    };
    expect((await sh("df -P /", spec)).stdout.split("\n")[1]).toMatch(
      /^\/dev\/sda1\s+\d+\s+\d+\s+\d+\s+93% \/$/,
    );
    expect((await sh("df -h", spec)).stdout).toMatch(/93% \/\n$/);
    expect((await sh("free -m", spec)).stdout).toMatch(/^Mem:\s+8000\s+6000\s+\d+\s+\d+\s+\d+\s+2000$/m);
    expect((await sh("cat /proc/loadavg", spec)).stdout).toMatch(/^2\.50 1\.25 0\.50 /);
    expect((await sh("uptime", spec)).stdout).toMatch(/load average: 2\.50, 1\.25, 0\.50\n$/);
    expect((await sh("uname -r", spec)).stdout).toBe("6.8.0-45-generic\n");
    expect((await sh("dpkg-query -W -f='${Version}' nginx", spec)).stdout).toBe("1:1.24.0-2ubuntu7");
    expect((await sh("nginx -v", spec)).stderr).toBe("nginx version: nginx/1.24.0\n");
    expect(await sh("dpkg-query -W nope", spec)).toMatchObject({
      code: 1,
      stderr: "dpkg-query: no packages found matching nope\n",
    });
  });

  it("greps simulated logs", async () => {
    const logs = { "/var/log/app.log": "ok start\nERROR disk full\nok\nerror again\n" };
    expect(await sh("grep -c -i error /var/log/app.log", { logs })).toMatchObject({ code: 0, stdout: "2\n" });
    expect(await sh("grep -n ERROR /var/log/app.log", { logs })).toMatchObject({
      stdout: "2:ERROR disk full\n",
    });
    expect(await sh("grep -c missing /var/log/app.log", { logs })).toMatchObject({ code: 1, stdout: "0\n" });
    expect(await sh("grep x /var/log/none", { logs })).toMatchObject({
      code: 2,
      stderr: "grep: /var/log/none: No such file or directory\n",
    });
    expect(await sh("grep 'disk (full)' /var/log/app.log", { logs })).toMatchObject({ code: 1 }); // BRE: parens are literal
    expect(await sh("grep -E 'disk (full)' /var/log/app.log", { logs })).toMatchObject({ code: 0 });
  });

  it("runs the offline planner's commands", async () => {
    const spec = {
      diskUsePercent: 93,
      packages: { nginx: "1.22.1-9" },
      logs: { "/var/log/syslog": "a\nkernel: Out of memory\n" },
    };
    expect(await sh(linux.disk("/", 90), spec)).toMatchObject({ code: 1, stdout: "/: 93% used\n" });
    expect(await sh(linux.disk("/", 95), spec)).toMatchObject({ code: 0 });
    expect(await sh(linux.memory(90), spec)).toMatchObject({ code: 0, stdout: "memory: 29% used\n" });
    expect(await sh(linux.load(1), spec)).toMatchObject({ code: 0, stdout: "load: 0.08 0.12 0.10\n" });
    expect(await sh(linux.packageVersion("nginx"), spec)).toMatchObject({
      code: 0,
      stdout: "nginx\t1.22.1-9\n",
    });
    expect(await sh(linux.packageVersion("nope"), spec)).toMatchObject({ code: 127 });
    expect(await sh(linux.osVersion(), spec)).toMatchObject({
      code: 0,
      stdout: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n',
    });
    expect(await sh(linux.searchLog("/var/log/syslog", "out of memory"), spec)).toMatchObject({
      code: 0,
      stdout: "2:kernel: Out of memory\n",
    });
    expect(await sh(linux.searchLog("/var/log/syslog", "nothing here"), spec)).toMatchObject({
      code: 0,
      stdout: "",
    });
    expect(await sh(linux.searchLog("/var/log/missing", "x"), spec)).toMatchObject({ code: 1 });
    expect(await sh(linux.firmwareVersion(), spec)).toMatchObject({ code: 0 });
  });

  it("stops a sleeping command when interrupted", async () => {
    const controller = new AbortController();
    const host = new SimulatedHost({ name: "h" }, "ops");
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await expect(
      runCommandLine(host, "sleep 5", { out() {}, err() {}, signal: controller.signal }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("simulated awk", () => {
  it.each([
    ["{ print $2 }", "a b c\nd e f\n", "b\ne\n", 0],
    ["NR==2", "x\ny\nz\n", "y\n", 0],
    ["/^M/ { print NF, $NF }", "Mem: 1 2 3\nSwap: 4\n", "4 3\n", 0],
    ["{ s += $1 } END { print s, NR }", "1\n2\n3.5\n", "6.5 3\n", 0],
    ['BEGIN { printf "%5.1f|%-3s|%03d%%\\n", 3.14159, "x", 7 }', "", "  3.1|x  |007%\n", 0],
    ['{ if ($1 > 10) print "big"; else print "small" }', "5\n50\n", "small\nbig\n", 0],
    ["$1 ~ /^b/ { next } { print }", "apple\nbanana\ncherry\n", "apple\ncherry\n", 0],
    ["{ exit ($1 > 3) }", "5\n", "", 1],
    ["{ print length($0), substr($0, 2, 3), toupper($1), int(7/2) }", "hello\n", "5 ell HELLO 3\n", 0],
    ['{ print ($1 == 10), ($1 == "10.0"), ($1 < 9) }', "10.0\n", "1 1 0\n", 0],
    ["{ print $1 / 3 }", "1\n", "0.333333\n", 0],
  ])("awk '%s'", (program, input, stdout, status) => {
    expect(runAwk({ program, input })).toEqual({ stdout, status });
  });

  it("splits on -F and reads -v variables", () => {
    expect(runAwk({ program: "{ print $2 x }", input: "a:b\n", fs: ":", vars: { x: "!" } }).stdout).toBe(
      "b!\n",
    );
  });

  it.each(["{ for (i = 0; i < 3; i++) print i }", '{ print > "/etc/passwd" }', "{ print $1 "])(
    "refuses %j",
    (program) => {
      expect(() => runAwk({ program, input: "x\n" })).toThrow(/awk/);
    },
  );
});
