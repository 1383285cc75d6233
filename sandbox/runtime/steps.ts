/**
 * step, skip and poll: the units a run records. A step reports step.started per try and one
 * step.finished; its status follows the outcome rule in sdk.d.ts.
 */
import type { WireEvent, WireStepStatus } from "../protocol";
import type { GuestBridge } from "./bridge";
import { type Capabilities, type ExecResult, handles } from "./capabilities";
import { FlowFailure, isRetryable, PollTimeout, StepError, statusOfError, toError } from "./errors";
import { currentScope, type StepScope, withScope } from "./scope";

export type RetryOptions = { attempts: number; backoffMs: number; factor?: number };
export type StepOptions = { host?: string; retry?: RetryOptions; timeoutMs?: number };
export type Skipped = { readonly skipped: true; readonly reason: string };

const skippedMarkers = new WeakSet<object>();
export function isSkipped(value: unknown): value is Skipped {
  return typeof value === "object" && value !== null && skippedMarkers.has(value);
}

/** A value that looks like ssh.exec's result (also after a flow copied it). */
export function asExecResult(value: unknown): ExecResult | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Partial<ExecResult>;
  if ((typeof v.exitCode !== "number" && v.exitCode !== null) || typeof v.stdout !== "string") return null;
  return v as ExecResult;
}

function describeExit(r: ExecResult): string {
  return r.exitCode === null ? `killed by signal ${r.signal ?? "unknown"}` : `exit code ${r.exitCode}`;
}

// "|" and "#" separate the parts of journal keys: identities must not contain them.
const IDENTITY = /^[^|#\n]{1,200}$/;

function checkIdentity(id: unknown, host: unknown): void {
  if (typeof id !== "string" || !IDENTITY.test(id))
    throw new TypeError("step: id must be 1–200 characters without |, # or newlines");
  if (host !== undefined && (typeof host !== "string" || !IDENTITY.test(host)))
    throw new TypeError("step: host must be 1–200 characters without |, # or newlines");
}

function checkRetry(retry: RetryOptions | undefined): Required<RetryOptions> {
  if (retry === undefined) return { attempts: 1, backoffMs: 0, factor: 1 };
  const { attempts, backoffMs, factor = 2 } = retry;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 20)
    throw new TypeError("step: retry.attempts must be a whole number from 1 to 20");
  if (!Number.isInteger(backoffMs) || backoffMs < 0 || backoffMs > 600_000)
    throw new TypeError("step: retry.backoffMs must be a whole number from 0 to 600000");
  if (typeof factor !== "number" || !(factor >= 1 && factor <= 10))
    throw new TypeError("step: retry.factor must be between 1 and 10");
  return { attempts, backoffMs, factor };
}

function checkTimeout(timeoutMs: unknown): number | null {
  if (timeoutMs === undefined) return null;
  if (
    typeof timeoutMs !== "number" ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > 86_400_000
  )
    throw new TypeError("step: timeoutMs must be a whole number from 1 to 86400000");
  return timeoutMs;
}

export function createSteps(bridge: GuestBridge, caps: Capabilities) {
  const occurrences = new Map<string, number>();

  function stepContext(scope: StepScope) {
    return Object.freeze({
      id: scope.stepId,
      host: scope.host,
      attempt: scope.attempt,
      ...handles(caps, () => scope),
    });
  }

  function finished(
    scope: Pick<StepScope, "stepId" | "host">,
    status: WireStepStatus,
    attempts: number,
    exec: ExecResult | null,
    error: string | null,
  ): void {
    const event: WireEvent = {
      type: "step.finished",
      stepId: scope.stepId,
      host: scope.host,
      status,
      attempts,
      exitCode: exec?.exitCode ?? null,
      stdout: exec?.stdout ?? "",
      stderr: exec?.stderr ?? "",
      error,
    };
    bridge.emit(event);
  }

  async function step<T>(
    id: string,
    options: StepOptions,
    fn: (ctx: ReturnType<typeof stepContext>) => Promise<T>,
  ) {
    checkIdentity(id, options?.host);
    if (typeof fn !== "function") throw new TypeError("step: the last argument must be a function");
    const retry = checkRetry(options?.retry);
    const timeoutMs = checkTimeout(options?.timeoutMs);
    const host = options?.host ?? null;
    const identity = `${id}|${host ?? ""}`;
    const occurrence = (occurrences.get(identity) ?? 0) + 1;
    occurrences.set(identity, occurrence);

    let lastExit: { value: T; exec: ExecResult } | null = null;
    let lastError: Error | null = null;
    let attempt = 0;
    while (attempt < retry.attempts) {
      attempt += 1;
      const scope: StepScope = { stepId: id, host, occurrence, attempt, timeoutMs, seq: 0 };
      bridge.emit({ type: "step.started", stepId: id, host, attempt });
      lastExit = null;
      lastError = null;
      try {
        const value = await withScope(scope, () => fn(stepContext(scope)));
        const exec = asExecResult(value);
        if (!exec || exec.exitCode === 0) {
          finished(scope, "succeeded", attempt, exec, null);
          return value;
        }
        lastExit = { value, exec };
      } catch (e) {
        lastError = toError(e);
        if (!isRetryable(lastError)) break;
      }
      if (attempt < retry.attempts) {
        const ms = Math.min(Math.round(retry.backoffMs * retry.factor ** (attempt - 1)), 3_600_000);
        if (ms > 0) await caps.sleep(scope, ms);
      }
    }
    if (lastExit) {
      // A command that exited non-zero is a result, not an exception: the flow decides.
      finished({ stepId: id, host }, "failed", attempt, lastExit.exec, describeExit(lastExit.exec));
      return lastExit.value;
    }
    const error = lastError ?? new Error("step ended without a result");
    const status = statusOfError(error);
    finished({ stepId: id, host }, status, attempt, null, error.message);
    throw new StepError(id, host, status, error);
  }

  async function skip(id: string, options: { host?: string }, reason: string): Promise<Skipped> {
    checkIdentity(id, options?.host);
    const host = options?.host ?? null;
    const text = typeof reason === "string" ? reason : String(reason);
    bridge.emit({ type: "log", level: "info", message: `skipped: ${text}`, stepId: id, host });
    finished({ stepId: id, host }, "skipped", 0, null, null);
    const marker: Skipped = Object.freeze({ skipped: true, reason: text });
    skippedMarkers.add(marker);
    return marker;
  }

  async function poll<T>(
    action: () => Promise<T>,
    until: (result: T) => boolean,
    options: { intervalMs: number; timeoutMs: number },
  ): Promise<T> {
    const { intervalMs, timeoutMs } = options ?? {};
    if (!Number.isInteger(intervalMs) || intervalMs < 1)
      throw new TypeError("poll: intervalMs must be at least 1");
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
      throw new TypeError("poll: timeoutMs must be at least 0");
    // Captured now, while the step that called poll is current: later tries run after awaits.
    const scope = currentScope();
    const tries = Math.floor(timeoutMs / intervalMs) + 1;
    let last = "";
    for (let n = 1; n <= tries; n++) {
      try {
        const result = await (scope ? withScope(scope, action) : action());
        if (until(result)) return result;
        const exec = asExecResult(result);
        last = exec ? `last result: ${describeExit(exec)}` : "";
      } catch (e) {
        const error = toError(e);
        if (!isRetryable(error)) throw error;
        last = `last error: ${error.message}`;
      }
      if (n < tries) await caps.sleep(scope, intervalMs);
    }
    throw new PollTimeout(
      `the condition did not hold within ${timeoutMs} ms (${tries} tries)${last ? `; ${last}` : ""}`,
    );
  }

  function fail(message: string): never {
    throw new FlowFailure(typeof message === "string" ? message : String(message));
  }

  return { step, skip, poll, fail };
}
