import { describe, expect, test } from "vitest";
import { depths } from "../../src/ui/client/graph";
import type { Step } from "../../src/ui/client/types";
import { makeStep } from "../helpers/plans";

const step = (id: string, overrides: Partial<Step> = {}) =>
  makeStep(id, overrides as never) as unknown as Step;

describe("plan graph layout", () => {
  test("puts each step one column after its deepest dependency", () => {
    const d = depths([
      step("a"),
      step("b", { dependsOn: ["a"] }),
      step("c", { dependsOn: ["a"] }),
      step("d", { dependsOn: ["b", "c"] }),
      step("e", { dependsOn: ["a", "d"] }),
      step("lone"),
    ]);
    expect(Object.fromEntries(d)).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 3, lone: 0 });
  });

  test("places error handlers after the step that calls them", () => {
    const d = depths([
      step("deploy", { onError: { mode: "compensate", steps: ["rollback"] } }),
      step("rollback", { trigger: "on_error" }),
    ]);
    expect(d.get("rollback")).toBe(1);
  });

  test("ends on a cycle or a missing dependency instead of looping", () => {
    const d = depths([
      step("a", { dependsOn: ["b"] }),
      step("b", { dependsOn: ["a"] }),
      step("c", { dependsOn: ["gone"] }),
    ]);
    expect([...d.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(d.get("c")).toBe(1);
  });
});
