/**
 * Outcomes: one host's result of a step, the shape generated flows pass between steps to
 * test conditions, fill placeholders and decide whether the flow fails.
 */
import type { WireStepStatus } from "../protocol";
import { parallel, type Settled, settle } from "./concurrency";
import { FlowFailure, statusOfError } from "./errors";
import { asExecResult, isSkipped } from "./steps";

export type Outcome = {
  readonly host: string | null;
  readonly status: WireStepStatus;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | null;
};

const FAILED: readonly WireStepStatus[] = ["failed", "timed_out", "cancelled"];

function outcome(host: string | null, fields: Omit<Outcome, "host">): Outcome {
  return Object.freeze({ host, ...fields });
}

export function toOutcome(host: string | null, settled: Settled<unknown>): Outcome {
  if (!settled.ok) {
    const error = settled.error;
    return outcome(host, {
      status: statusOfError(error),
      exitCode: null,
      stdout: "",
      stderr: "",
      error: error.message,
    });
  }
  if (isSkipped(settled.value))
    return outcome(host, { status: "skipped", exitCode: null, stdout: "", stderr: "", error: null });
  const exec = asExecResult(settled.value);
  if (!exec)
    return outcome(host, { status: "succeeded", exitCode: null, stdout: "", stderr: "", error: null });
  const ok = exec.exitCode === 0;
  return outcome(host, {
    status: ok ? "succeeded" : "failed",
    exitCode: exec.exitCode,
    stdout: exec.stdout,
    stderr: exec.stderr,
    error: ok
      ? null
      : exec.exitCode === null
        ? `killed by signal ${exec.signal ?? "unknown"}`
        : `exit code ${exec.exitCode}`,
  });
}

export async function forEachHost(
  hosts: readonly string[],
  options: { concurrency: number },
  fn: (host: string) => Promise<unknown>,
): Promise<Outcome[]> {
  const settled = await parallel(hosts, options, (host) => fn(host));
  return settled.map(([host, result]) => toOutcome(host, result));
}

export async function once(fn: () => Promise<unknown>): Promise<Outcome[]> {
  return [toOutcome(null, await settle(fn))];
}

export function resultOn(results: readonly Outcome[], host: string | null): Outcome {
  const exact = results.find((r) => r.host === host);
  if (exact) return exact;
  if (results.length === 1 && results[0]) return results[0];
  return outcome(host, { status: "skipped", exitCode: null, stdout: "", stderr: "", error: null });
}

export function anyFailed(results: readonly Outcome[]): boolean {
  return results.some((r) => FAILED.includes(r.status));
}

export function requireSuccess(stepId: string, results: readonly Outcome[]): void {
  const failed = results.filter((r) => FAILED.includes(r.status));
  if (!failed.length) return;
  const shown = failed
    .slice(0, 5)
    .map((r) => `${r.host ?? "(no host)"}: ${r.error ?? r.status}`)
    .join("; ");
  const more = failed.length > 5 ? `; and ${failed.length - 5} more` : "";
  const where = results.length > 1 ? ` on ${failed.length} of ${results.length} hosts` : "";
  throw new FlowFailure(`step "${stepId}" failed${where} (${shown}${more})`);
}
