/**
 * Which step a capability call belongs to. The isolate has no async context, so the step
 * currently running its function synchronously is "current"; calls made after an await use
 * the StepContext handles, which carry their scope explicitly. A call outside any step is
 * numbered in flow order.
 */
import type { WireScope } from "../protocol";

export type StepScope = {
  readonly stepId: string;
  readonly host: string | null;
  readonly occurrence: number;
  readonly attempt: number;
  readonly timeoutMs: number | null;
  /** Calls made so far in this attempt. */
  seq: number;
};

let current: StepScope | null = null;
let flowSeq = 0;

export function currentScope(): StepScope | null {
  return current;
}

/** Runs fn with `scope` current for its synchronous part. */
export function withScope<T>(scope: StepScope, fn: () => T): T {
  const previous = current;
  current = scope;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The wire scope of the next call in `scope` (or in the flow, outside steps). */
export function nextCall(scope: StepScope | null): WireScope {
  if (!scope) return { stepId: null, host: null, occurrence: 1, attempt: 0, seq: ++flowSeq };
  scope.seq += 1;
  return {
    stepId: scope.stepId,
    host: scope.host,
    occurrence: scope.occurrence,
    attempt: scope.attempt,
    seq: scope.seq,
  };
}
