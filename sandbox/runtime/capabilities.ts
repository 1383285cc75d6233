/**
 * ssh.exec, sleep and log as the flow sees them. Each takes the scope it belongs to; the
 * public SDK functions pass the current one, StepContext handles pass their own.
 */
import type { WireEvent } from "../protocol";
import type { GuestBridge } from "./bridge";
import { nextCall, type StepScope } from "./scope";
import { commandText } from "./shell";

export type ExecResult = {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
};
export type LogLevel = "info" | "warn" | "error";

const LEVELS: readonly string[] = ["info", "warn", "error"];
const MAX_MS = 86_400_000;

function checkMs(what: string, ms: unknown): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > MAX_MS)
    throw new TypeError(`${what} must be a whole number of milliseconds between 0 and ${MAX_MS}`);
  return ms;
}

export type Capabilities = ReturnType<typeof createCapabilities>;

export function createCapabilities(bridge: GuestBridge) {
  async function exec(
    scope: StepScope | null,
    host: unknown,
    command: unknown,
    options?: { timeoutMs?: number },
  ) {
    if (typeof host !== "string" || host === "")
      throw new TypeError("ssh.exec: host must be a non-empty string");
    const text = commandText(command);
    const own = options?.timeoutMs === undefined ? null : checkMs("ssh.exec timeoutMs", options.timeoutMs);
    const inherited = scope?.timeoutMs ?? null;
    const timeoutMs = own === null ? inherited : inherited === null ? own : Math.min(own, inherited);
    const value = await bridge.call(
      { name: "ssh.exec", args: { host, command: text, timeoutMs } },
      nextCall(scope),
    );
    return value as ExecResult;
  }

  async function sleep(scope: StepScope | null, ms: unknown): Promise<void> {
    await bridge.call({ name: "sleep", args: { ms: checkMs("sleep", ms) } }, nextCall(scope));
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

  return { exec, sleep, log };
}
