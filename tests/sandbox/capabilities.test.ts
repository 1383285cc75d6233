import { describe, expect, it } from "vitest";
import { createCompiler } from "../../src/compile";
import { runFlow } from "../../src/sandbox/runner";
import { LIMITS, simulatedHosts } from "./simulated-hosts";

const compiler = createCompiler();

async function run(body: string, allowedHosts = ["web1", "win1"]) {
  const source = [
    'import { defineFlow, http, log, net, notify, powershell, ps, step, uri } from "intentflow:sdk";',
    'export default defineFlow({ name: "t" }, async () => {',
    body,
    "});",
  ].join("\n");
  const out = await compiler.compileSource(source);
  expect(out.diagnostics).toEqual([]);
  const hosts = simulatedHosts((_host, text) => ({
    exitCode: 0,
    stdout: text.includes("Json") ? '{"a":1}' : "",
  }));
  const result = await runFlow({
    bundle: out.bundle!,
    sourceMap: out.sourceMap,
    params: {},
    allowedHosts,
    call: hosts.call,
    onEvent: hosts.onEvent,
    limits: LIMITS,
  });
  return { result, hosts };
}

describe("the SDK's capabilities map 1:1 onto calls.ts", () => {
  it("sends powershell.run, http.request, net.* and notify with their contract's arguments", async () => {
    const { result, hosts } = await run(`
      const name = "it's ‘x’";
      const r = await powershell.run("win1", ps\`Get-Service -Name \${name} | ConvertTo-Json\`, { timeoutMs: 5000 });
      if ((r.data as { a: number }).a !== 1) throw new Error("no data");
      const h = await http.request({ host: "web1", method: "GET", url: uri\`http://web1/q?x=\${"a b&c"}\`, headers: { accept: "text/plain" } });
      if (h.status !== 200) throw new Error("status");
      const t = await net.tcp("web1", 443);
      const d = await net.dns("web1", { type: "A" });
      const p = await net.ping("web1");
      if (!t.ok || d.addresses.length !== 1 || p.method !== "icmp") throw new Error("net");
      await notify("ops", "done");
      await step("s", { host: "web1", timeoutMs: 100 }, (ctx) => ctx.net.tcp("web1", 22));
      await log("ok");
    `);
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(hosts.calls.map((c) => c.call)).toEqual([
      {
        name: "powershell.run",
        args: { host: "win1", script: "Get-Service -Name 'it''s ‘‘x’’' | ConvertTo-Json", timeoutMs: 5000 },
      },
      {
        name: "http.request",
        args: {
          host: "web1",
          method: "GET",
          url: "http://web1/q?x=a%20b%26c",
          headers: [["accept", "text/plain"]],
          body: null,
          timeoutMs: null,
        },
      },
      { name: "net.tcp", args: { host: "web1", port: 443, timeoutMs: null } },
      { name: "net.dns", args: { host: "web1", type: "A" } },
      { name: "net.ping", args: { host: "web1", timeoutMs: null } },
      { name: "notify", args: { channel: "ops", message: "done" } },
      { name: "net.tcp", args: { host: "web1", port: 22, timeoutMs: 100 } },
    ]);
  });

  it.each([
    ['await powershell.run("db9", "Get-Date")'],
    ['await net.tcp("db9", 22)'],
    ['await net.dns("db9")'],
    ['await net.ping("db9")'],
    ['await http.request({ host: "db9", method: "GET", url: "http://db9/" })'],
  ])("refuses a host outside the approved set: %s", async (call) => {
    const { result, hosts } = await run(call);
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/host "db9" is not among the hosts this run may reach/);
    expect(hosts.calls).toEqual([]);
  });

  it("refuses a NUL in a ps value", async () => {
    const { result } = await run('ps`echo ${"a\\u0000b"}`;');
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/NUL/);
  });
});

describe("host-side deadlines", () => {
  it("stops waiting for a capability that ignores its timeout", async () => {
    const out = await compiler.compileSource(
      [
        'import { defineFlow, ssh, step } from "intentflow:sdk";',
        'export default defineFlow({ name: "t" }, async () => {',
        '  await step("hang", { host: "web1" }, () => ssh.exec("web1", "sleep 99", { timeoutMs: 10 }));',
        "});",
      ].join("\n"),
    );
    const started = performance.now();
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1"],
      call: () => new Promise(() => {}),
      onEvent: () => {},
      limits: { memoryMb: 32, timeoutMs: 20_000 },
    });
    expect(result).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/did not answer within 5010 ms/),
    });
    expect(performance.now() - started).toBeLessThan(8_000);
  });
});
