import { createServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpCapability } from "../../src/capabilities/http";
import { createNetCapability } from "../../src/capabilities/net";
import { encodePowerShell, powerShellCommand } from "../../src/capabilities/powershell";
import { CapabilityError } from "../../src/capabilities/types";
import { createInventory } from "../../src/inventory";

/** HTTP and net capabilities against real local servers; PowerShell encoding. */

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/big") return res.end("x".repeat(200_000));
    if (req.url === "/slow") return setTimeout(() => res.end("late"), 2000);
    if (req.url === "/redirect") {
      res.writeHead(302, { location: "http://elsewhere.example/" });
      return res.end();
    }
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      res.setHeader("x-seen-method", req.method ?? "");
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers["x-token"] ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

const inventory = () =>
  createInventory({ hosts: { web1: { address: "127.0.0.1", port: 22 }, far: { address: "192.0.2.1" } } }, {});
const req = (over: Record<string, unknown>) => ({
  host: null,
  method: "GET" as const,
  url: `http://127.0.0.1:${port}/`,
  headers: null,
  body: null,
  timeoutMs: null,
  ...over,
});

describe("http.request", () => {
  it("sends method, headers and body, and returns status, headers and body", async () => {
    const http = createHttpCapability({ inventory: inventory(), allowHosts: ["127.0.0.1"] });
    const r = await http.request(req({ method: "POST", headers: [["x-token", "abc"]], body: "hello" }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ method: "POST", body: "hello", auth: "abc" });
    expect(r.headers).toContainEqual(["x-seen-method", "POST"]);
    expect(r.truncated).toBe(false);
  });

  it("reaches an inventory host by its name, only for a call naming that host", async () => {
    const http = createHttpCapability({ inventory: inventory() });
    const r = await http.request(req({ host: "web1", url: `http://web1:${port}/health` }));
    expect(r.status).toBe(200);
    await expect(http.request(req({ url: `http://web1:${port}/` }))).rejects.toMatchObject({
      code: "denied",
    });
  });

  it("refuses hosts outside the allow list, schemes other than http(s), and URLs with credentials", async () => {
    const http = createHttpCapability({ inventory: inventory(), allowHosts: ["*.example.com"] });
    await expect(http.request(req({}))).rejects.toMatchObject({ code: "denied" });
    await expect(http.request(req({ url: "file:///etc/passwd" }))).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(http.request(req({ url: "http://u:p@api.example.com/" }))).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("caps the body, does not follow redirects, and times out", async () => {
    const http = createHttpCapability({
      inventory: inventory(),
      allowHosts: ["127.0.0.1"],
      maxBodyBytes: 1000,
    });
    const big = await http.request(req({ url: `http://127.0.0.1:${port}/big` }));
    expect(big).toMatchObject({ truncated: true });
    expect(big.body.length).toBe(1000);
    expect((await http.request(req({ url: `http://127.0.0.1:${port}/redirect` }))).status).toBe(302);
    const started = Date.now();
    const e = await http
      .request(req({ url: `http://127.0.0.1:${port}/slow`, timeoutMs: 200 }))
      .catch((x) => x);
    expect(e).toBeInstanceOf(CapabilityError);
    expect(e.code).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe("net", () => {
  it("connects over TCP with a latency, and reports a closed port as not ok", async () => {
    const net = createNetCapability({ inventory: inventory() });
    const open = await net.tcp("web1", port);
    expect(open.ok).toBe(true);
    expect(open.latencyMs).toBeGreaterThanOrEqual(0);
    const closedPort = await new Promise<number>((r) => {
      const s = createTcpServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    expect(await net.tcp("web1", closedPort)).toMatchObject({
      ok: false,
      latencyMs: null,
      error: "ECONNREFUSED",
    });
  });

  it("times out a TCP connect to an address that never answers", async () => {
    const net = createNetCapability({ inventory: inventory() });
    const r = await net.tcp("far", 9, 300);
    expect(r.ok).toBe(false);
  });

  it("looks up addresses, and refuses hosts outside the inventory", async () => {
    const inv = createInventory(
      { hosts: { local: { address: "localhost" }, web1: { address: "127.0.0.1" } } },
      {},
    );
    const net = createNetCapability({ inventory: inv });
    expect((await net.dns("local", "A")).addresses).toContain("127.0.0.1");
    expect(await net.dns("web1", null)).toEqual({ addresses: ["127.0.0.1"] });
    await expect(net.dns("nope", null)).rejects.toMatchObject({ code: "unknown_host" });
  });

  it("pings with the system ping, or falls back to TCP", async () => {
    const net = createNetCapability({ inventory: inventory() });
    const auto = await net.ping("web1", 2000);
    expect(auto.ok || auto.method === "tcp").toBe(true);
    const tcpOnly = createNetCapability({
      inventory: createInventory({ hosts: { h: { address: "127.0.0.1", port } } }, {}),
      ping: "tcp",
    });
    expect(await tcpOnly.ping("h", 1000)).toMatchObject({ ok: true, method: "tcp" });
  });
});

describe("PowerShell encoding", () => {
  it("sends the script as UTF-16LE base64, with nothing a shell would interpret", () => {
    const script = `Write-Output "it's; $(rm -rf ~) \`n ü"`;
    const cmd = powerShellCommand(script, "linux");
    expect(cmd).toMatch(/^pwsh -NoLogo -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$/);
    expect(powerShellCommand(script, "windows")).toMatch(/^powershell\.exe /);
    const decoded = Buffer.from(encodePowerShell(script), "base64").toString("utf16le");
    expect(decoded.endsWith(script)).toBe(true);
  });
});
