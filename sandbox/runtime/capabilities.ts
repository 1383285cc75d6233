/**
 * The capabilities as the flow sees them. Each takes the scope it belongs to; the public SDK
 * functions pass the current one, StepContext handles pass their own. Arguments are checked
 * here for a readable error at the flow's line; the host validates them again (zod) anyway.
 */
import type { WireCall, WireEvent } from "../protocol";
import type { GuestBridge } from "./bridge";
import { nextCall, type StepScope } from "./scope";
import { commandText } from "./shell";
import { scriptText } from "./templates";

export type ExecResult = {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
};
export type PsResult = ExecResult & { readonly data: unknown };
export type HttpResult = {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: string;
  readonly truncated: boolean;
};
export type TcpResult = {
  readonly ok: boolean;
  readonly latencyMs: number | null;
  readonly error: string | null;
};
export type DnsResult = { readonly addresses: string[] };
export type PingResult = TcpResult & { readonly method: "icmp" | "tcp" };
export type LogLevel = "info" | "warn" | "error";
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
export type HttpOptions = {
  host?: string;
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
};

const LEVELS: readonly string[] = ["info", "warn", "error"];
const METHODS: readonly string[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const DNS_TYPES: readonly string[] = ["A", "AAAA", "ANY"];
const MAX_MS = 86_400_000;

function checkMs(what: string, ms: unknown): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > MAX_MS)
    throw new TypeError(`${what} must be a whole number of milliseconds between 0 and ${MAX_MS}`);
  return ms;
}

function checkHost(what: string, host: unknown): string {
  if (typeof host !== "string" || host === "")
    throw new TypeError(`${what}: host must be a non-empty string`);
  return host;
}

/** The call's own timeout, bounded by its step's. */
function timeoutOf(what: string, scope: StepScope | null, options: unknown): number | null {
  const given = (options as { timeoutMs?: unknown } | undefined)?.timeoutMs;
  const own = given === undefined ? null : checkMs(`${what} timeoutMs`, given);
  const inherited = scope?.timeoutMs ?? null;
  return own === null ? inherited : inherited === null ? own : Math.min(own, inherited);
}

function headerList(headers: unknown): [string, string][] | null {
  if (headers === undefined || headers === null) return null;
  if (typeof headers !== "object" || Array.isArray(headers))
    throw new TypeError("http.request: headers must be an object of strings");
  return Object.entries(headers as Record<string, unknown>).map(([name, value]) => {
    if (typeof value !== "string") throw new TypeError(`http.request: header "${name}" must be a string`);
    return [name, value];
  });
}

export type Capabilities = ReturnType<typeof createCapabilities>;

export function createCapabilities(bridge: GuestBridge) {
  const call = (scope: StepScope | null, wire: WireCall) => bridge.call(wire, nextCall(scope));

  async function exec(scope: StepScope | null, host: unknown, command: unknown, options?: unknown) {
    const args = {
      host: checkHost("ssh.exec", host),
      command: commandText(command),
      timeoutMs: timeoutOf("ssh.exec", scope, options),
    };
    return (await call(scope, { name: "ssh.exec", args })) as ExecResult;
  }

  async function powershell(scope: StepScope | null, host: unknown, script: unknown, options?: unknown) {
    const args = {
      host: checkHost("powershell.run", host),
      script: scriptText(script),
      timeoutMs: timeoutOf("powershell.run", scope, options),
    };
    return (await call(scope, { name: "powershell.run", args })) as PsResult;
  }

  async function http(scope: StepScope | null, options: unknown) {
    if (typeof options !== "object" || options === null)
      throw new TypeError("http.request: options must be an object");
    const o = options as Partial<Record<keyof HttpOptions, unknown>>;
    if (typeof o.method !== "string" || !METHODS.includes(o.method))
      throw new TypeError(`http.request: method is one of ${METHODS.join(", ")}`);
    if (typeof o.url !== "string" || o.url === "") throw new TypeError("http.request: url must be a string");
    if (o.body !== undefined && typeof o.body !== "string")
      throw new TypeError("http.request: body must be a string");
    const args = {
      host: o.host === undefined ? null : checkHost("http.request", o.host),
      method: o.method as HttpMethod,
      url: o.url,
      headers: headerList(o.headers),
      body: o.body ?? null,
      timeoutMs: timeoutOf("http.request", scope, options),
    };
    return (await call(scope, { name: "http.request", args })) as HttpResult;
  }

  async function tcp(scope: StepScope | null, host: unknown, port: unknown, options?: unknown) {
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new TypeError("net.tcp: port must be a whole number from 1 to 65535");
    const args = { host: checkHost("net.tcp", host), port, timeoutMs: timeoutOf("net.tcp", scope, options) };
    return (await call(scope, { name: "net.tcp", args })) as TcpResult;
  }

  async function dns(scope: StepScope | null, host: unknown, options?: unknown) {
    const type = (options as { type?: unknown } | undefined)?.type;
    if (type !== undefined && (typeof type !== "string" || !DNS_TYPES.includes(type)))
      throw new TypeError("net.dns: type is A, AAAA or ANY");
    const args = { host: checkHost("net.dns", host), type: (type ?? null) as "A" | "AAAA" | "ANY" | null };
    return (await call(scope, { name: "net.dns", args })) as DnsResult;
  }

  async function ping(scope: StepScope | null, host: unknown, options?: unknown) {
    const args = { host: checkHost("net.ping", host), timeoutMs: timeoutOf("net.ping", scope, options) };
    return (await call(scope, { name: "net.ping", args })) as PingResult;
  }

  async function notify(scope: StepScope | null, channel: unknown, message: unknown): Promise<void> {
    if (typeof channel !== "string" || channel === "")
      throw new TypeError("notify: channel must be a string");
    if (typeof message !== "string" || message === "")
      throw new TypeError("notify: message must be a string");
    await call(scope, { name: "notify", args: { channel, message } });
  }

  async function sleep(scope: StepScope | null, ms: unknown): Promise<void> {
    await call(scope, { name: "sleep", args: { ms: checkMs("sleep", ms) } });
  }

  async function log(scope: StepScope | null, message: unknown, level: unknown = "info"): Promise<void> {
    if (typeof level !== "string" || !LEVELS.includes(level))
      throw new TypeError("log: level is info, warn or error");
    const event: WireEvent = {
      type: "log",
      level: level as LogLevel,
      message: typeof message === "string" ? message : String(message),
      stepId: scope?.stepId ?? null,
      host: scope?.host ?? null,
    };
    bridge.emit(event);
  }

  return { exec, powershell, http, tcp, dns, ping, notify, sleep, log };
}

/** The capability handles bound to one scope (a function that says which scope is current). */
export function handles(caps: Capabilities, scopeOf: () => StepScope | null) {
  return {
    ssh: Object.freeze({
      exec: (host: string, command: unknown, options?: unknown) =>
        caps.exec(scopeOf(), host, command, options),
    }),
    powershell: Object.freeze({
      run: (host: string, script: unknown, options?: unknown) =>
        caps.powershell(scopeOf(), host, script, options),
    }),
    http: Object.freeze({ request: (options: unknown) => caps.http(scopeOf(), options) }),
    net: Object.freeze({
      tcp: (host: string, port: number, options?: unknown) => caps.tcp(scopeOf(), host, port, options),
      dns: (host: string, options?: unknown) => caps.dns(scopeOf(), host, options),
      ping: (host: string, options?: unknown) => caps.ping(scopeOf(), host, options),
    }),
    notify: (channel: string, message: string) => caps.notify(scopeOf(), channel, message),
    sleep: (ms: number) => caps.sleep(scopeOf(), ms),
    log: (message: string, level?: LogLevel) => caps.log(scopeOf(), message, level),
  };
}
