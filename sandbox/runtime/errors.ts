/**
 * Errors the runtime throws. They carry what the step records (status) and whether a retry
 * can help, so steps and outcomes never parse messages.
 */
import type { WireStepStatus } from "../protocol";

/** Codes of capability errors that retrying cannot fix (mirrors CapabilityError.retryable). */
const FINAL_CODES = new Set([
  "unknown_host",
  "auth_failed",
  "host_key_mismatch",
  "denied",
  "invalid_argument",
  "cancelled",
]);

/** A capability call refused or failed on the host side. */
export class CapabilityFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "CapabilityFailure";
  }
}

/** Raised by fail() and requireSuccess(): deliberate, so never retried. */
export class FlowFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlowFailure";
  }
}

/** poll() ran out of tries. */
export class PollTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PollTimeout";
  }
}

/** Thrown by step() after its last try; keeps the cause's message and stack. */
export class StepError extends Error {
  constructor(
    readonly stepId: string,
    readonly host: string | null,
    readonly status: WireStepStatus,
    cause: Error,
  ) {
    super(cause.message);
    this.name = cause.name;
    this.stack = cause.stack;
  }
}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : `non-error thrown: ${safeString(value)}`);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

export function isRetryable(error: Error): boolean {
  if (error instanceof FlowFailure) return false;
  if (error instanceof StepError) return false;
  if (error instanceof CapabilityFailure) return !FINAL_CODES.has(error.code);
  return true;
}

/** The status a step records for an error. */
export function statusOfError(error: Error): WireStepStatus {
  if (error instanceof StepError) return error.status;
  if (error instanceof PollTimeout) return "timed_out";
  if (error instanceof CapabilityFailure) {
    if (error.code === "timeout") return "timed_out";
    if (error.code === "cancelled") return "cancelled";
  }
  return "failed";
}
