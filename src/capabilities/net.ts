import { execFile } from "node:child_process";
import { lookup } from "node:dns/promises";
import { isIP, Socket } from "node:net";
import type { Inventory } from "../inventory/types";
import type { CallResults } from "./calls";
import { CapabilityError } from "./types";

/**
 * Network checks on inventory hosts, from the machine intentflow runs on: TCP connect with
 * latency, DNS lookup, and ping — the system `ping` (one ICMP echo, no shell) where allowed,
 * else a TCP connect to the host's SSH port. Failures are results (`ok: false`), not errors:
 * "is it reachable?" is the question these answer.
 */

export type NetOptions = {
  inventory: Inventory;
  /** "auto" (default): ICMP via system ping, TCP when ping is missing or not permitted. */
  ping?: "auto" | "icmp" | "tcp";
  defaultTimeoutMs?: number;
};

export interface NetCapability {
  tcp(host: string, port: number, timeoutMs?: number | null): Promise<CallResults["net.tcp"]>;
  dns(host: string, type?: "A" | "AAAA" | "ANY" | null): Promise<CallResults["net.dns"]>;
  ping(host: string, timeoutMs?: number | null): Promise<CallResults["net.ping"]>;
}

export function createNetCapability(options: NetOptions): NetCapability {
  const fallback = options.defaultTimeoutMs ?? 5000;
  const address = (name: string) => {
    const h = options.inventory.get(name);
    if (!h) throw new CapabilityError("unknown_host", `unknown host "${name}"`);
    return h;
  };
  return {
    async tcp(name, port, timeoutMs) {
      return tcpConnect(address(name).address, port, timeoutMs ?? fallback);
    },
    async dns(name, type) {
      const host = address(name);
      if (isIP(host.address)) return { addresses: [host.address] };
      const family = type === "A" ? 4 : type === "AAAA" ? 6 : 0;
      try {
        const found = await lookup(host.address, { all: true, family });
        return { addresses: found.map((a) => a.address) };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOTFOUND" || code === "ENODATA") return { addresses: [] };
        throw new CapabilityError("failed", `DNS lookup for ${name} failed (${code ?? "error"})`);
      }
    },
    async ping(name, timeoutMs) {
      const host = address(name);
      const ms = timeoutMs ?? fallback;
      if (options.ping !== "tcp") {
        const icmp = await systemPing(host.address, ms);
        if (icmp || options.ping === "icmp")
          return icmp ?? { ok: false, latencyMs: null, method: "icmp", error: "ping is not available" };
      }
      const r = await tcpConnect(host.address, host.port, ms);
      return { ...r, method: "tcp" };
    },
  };
}

export function tcpConnect(
  address: string,
  port: number,
  timeoutMs: number,
): Promise<CallResults["net.tcp"]> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = new Socket();
    const done = (error: string | null) => {
      socket.destroy();
      resolve({
        ok: error === null,
        latencyMs: error === null ? round(performance.now() - started) : null,
        error,
      });
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once("connect", () => done(null));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    socket.connect(port, address);
  });
}

/** One echo via the system ping; null when ping is missing or not permitted here. */
function systemPing(address: string, timeoutMs: number): Promise<CallResults["net.ping"] | null> {
  const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  const args = [isIP(address) === 6 ? "-6" : "-4", "-n", "-c", "1", "-W", wait, "--", address];
  return new Promise((resolve) => {
    execFile("ping", args, { timeout: timeoutMs + 1000, env: { LC_ALL: "C" } }, (err, stdout, stderr) => {
      const time = /time[=<]([\d.]+) ?ms/.exec(stdout);
      if (!err && time)
        return resolve({ ok: true, latencyMs: round(Number(time[1])), method: "icmp", error: null });
      const code = (err as { code?: unknown } | null)?.code;
      // Missing binary, or no permission for raw/ICMP sockets: let TCP answer instead.
      if (code === "ENOENT" || code === 2 || /permission|not permitted/i.test(stderr)) return resolve(null);
      resolve({
        ok: false,
        latencyMs: null,
        method: "icmp",
        error: /100% packet loss/.test(stdout) ? "no reply" : stderr.trim() || "no reply",
      });
    });
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
