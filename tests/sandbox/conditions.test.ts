import { describe, expect, it } from "vitest";
import { holds } from "../../sandbox/runtime/conditions";

const ran = (exitCode: number | null, stdout = "", status?: string) => ({
  exitCode,
  stdout,
  ...(status ? { status } : {}),
});
const notRun = { host: "web3", status: "skipped", exitCode: null, stdout: "", stderr: "", error: null };

describe("holds", () => {
  it("compares exit codes as numbers", () => {
    expect(holds(ran(3), "exitCode", "ne", 0)).toBe(true);
    expect(holds(ran(0), "exitCode", "ne", 0)).toBe(false);
    expect(holds(ran(0), "exitCode", "eq", "0")).toBe(true);
    expect(holds(ran(2), "exitCode", "gt", 1)).toBe(true);
    expect(holds(ran(2), "exitCode", "lt", 1)).toBe(false);
    expect(holds(ran(127), "exitCode", "contains", "12")).toBe(true);
  });

  it("holds no exitCode or stdout comparison where no command ran", () => {
    for (const op of ["eq", "ne", "gt", "lt", "contains", "not_contains"] as const) {
      expect(holds(notRun, "exitCode", op, 0)).toBe(false);
      expect(holds(notRun, "stdout", op, "x")).toBe(false);
    }
    expect(holds(notRun, "status", "eq", "skipped")).toBe(true);
  });

  it("compares stdout trimmed, and as numbers for gt/lt", () => {
    expect(holds(ran(0, "active\n"), "stdout", "eq", "active")).toBe(true);
    expect(holds(ran(0, "inactive\n"), "stdout", "ne", "active")).toBe(true);
    expect(holds(ran(0, "Active: running"), "stdout", "contains", "running")).toBe(true);
    expect(holds(ran(0, "Active: running"), "stdout", "not_contains", "dead")).toBe(true);
    expect(holds(ran(0, " 91\n"), "stdout", "gt", 90)).toBe(true);
    expect(holds(ran(0, "n/a"), "stdout", "gt", 90)).toBe(false);
    expect(holds(ran(0, "n/a"), "stdout", "lt", 90)).toBe(false);
  });

  it("derives the status of a raw command result the way steps record it", () => {
    expect(holds(ran(0), "status", "eq", "succeeded")).toBe(true);
    expect(holds(ran(1), "status", "eq", "failed")).toBe(true);
    expect(holds(ran(1, "", "skipped"), "status", "ne", "failed")).toBe(true);
  });

  it("refuses unknown fields and operators", () => {
    expect(() => holds(ran(0), "exit" as "exitCode", "eq", 0)).toThrow("unknown field");
    expect(() => holds(ran(0), "exitCode", "like" as "eq", 0)).toThrow("unknown operator");
  });
});
