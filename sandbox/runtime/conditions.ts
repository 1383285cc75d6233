/**
 * Plan conditions (`when`, `until`) evaluated against a step result. The rules are in
 * sdk.d.ts (holds); they live here once so generated flows only name them.
 */
import type { WireStepStatus } from "../protocol";

export type ConditionField = "exitCode" | "stdout" | "status";
export type ConditionOp = "eq" | "ne" | "gt" | "lt" | "contains" | "not_contains";

/** The parts of an Outcome or ExecResult a condition reads. */
type Observed = { status: WireStepStatus | string; exitCode: number | null; stdout: string };

const FIELDS: readonly string[] = ["exitCode", "stdout", "status"];
const OPS: readonly string[] = ["eq", "ne", "gt", "lt", "contains", "not_contains"];

function observe(result: unknown): Observed {
  if (typeof result !== "object" || result === null) throw new TypeError("holds: no result to test");
  const r = result as { status?: unknown; exitCode?: unknown; stdout?: unknown };
  const exitCode = typeof r.exitCode === "number" ? r.exitCode : null;
  const stdout = typeof r.stdout === "string" ? r.stdout : "";
  // An ExecResult has no status: derive it the way steps record it.
  const status = typeof r.status === "string" ? r.status : exitCode === 0 ? "succeeded" : "failed";
  return { status, exitCode, stdout };
}

function compareNumbers(actual: number, op: ConditionOp, expected: number): boolean {
  switch (op) {
    case "eq":
      return actual === expected;
    case "ne":
      return actual !== expected;
    case "gt":
      return actual > expected;
    case "lt":
      return actual < expected;
    default:
      return false;
  }
}

function compareText(actual: string, op: ConditionOp, expected: string): boolean {
  switch (op) {
    case "eq":
      return actual.trim() === expected;
    case "ne":
      return actual.trim() !== expected;
    case "contains":
      return actual.includes(expected);
    case "not_contains":
      return !actual.includes(expected);
    default: {
      const a = actual.trim() === "" ? Number.NaN : Number(actual.trim());
      const e = expected.trim() === "" ? Number.NaN : Number(expected);
      return !Number.isNaN(a) && !Number.isNaN(e) && compareNumbers(a, op, e);
    }
  }
}

export function holds(
  result: unknown,
  field: ConditionField,
  op: ConditionOp,
  value: string | number,
): boolean {
  if (!FIELDS.includes(field)) throw new TypeError(`holds: unknown field ${String(field)}`);
  if (!OPS.includes(op)) throw new TypeError(`holds: unknown operator ${String(op)}`);
  const r = observe(result);
  if (field === "status") return compareText(r.status, op, String(value));
  // exitCode and stdout describe a command that ran: where none did, no comparison holds.
  if (r.exitCode === null) return false;
  if (field === "stdout") return compareText(r.stdout, op, String(value));
  if (op === "contains" || op === "not_contains") return compareText(String(r.exitCode), op, String(value));
  return compareNumbers(r.exitCode, op, typeof value === "number" ? value : Number(value));
}
