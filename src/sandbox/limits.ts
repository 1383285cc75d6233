/** Per-run sandbox limits: defaults, and the one place that bounds what callers ask for. */
import type { RunLimits } from "./types";

export type ResolvedLimits = Required<RunLimits>;

export const DEFAULT_LIMITS: Omit<ResolvedLimits, "memoryMb" | "timeoutMs"> = {
  cpuMs: 30_000,
  maxCalls: 10_000,
  maxOutputBytes: 16 * 1024 * 1024,
  maxLogBytes: 4 * 1024 * 1024,
};

const MIN_MEMORY_MB = 8;
/** setTimeout fires at once above this (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

const whole = (n: number | undefined, fallback: number, min: number, max: number) =>
  n === undefined || !Number.isFinite(n) ? fallback : Math.min(max, Math.max(min, Math.floor(n)));

export function resolveLimits(limits: RunLimits): ResolvedLimits {
  return {
    memoryMb: whole(limits.memoryMb, 64, MIN_MEMORY_MB, 4096),
    timeoutMs: whole(limits.timeoutMs, 600_000, 1, MAX_TIMER_MS),
    cpuMs: whole(limits.cpuMs, DEFAULT_LIMITS.cpuMs, 1, MAX_TIMER_MS),
    maxCalls: whole(limits.maxCalls, DEFAULT_LIMITS.maxCalls, 0, 10_000_000),
    maxOutputBytes: whole(limits.maxOutputBytes, DEFAULT_LIMITS.maxOutputBytes, 1024, 1024 ** 3),
    maxLogBytes: whole(limits.maxLogBytes, DEFAULT_LIMITS.maxLogBytes, 1024, 1024 ** 3),
  };
}
