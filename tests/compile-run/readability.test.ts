import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FlowCodegen } from "../../src/compile/codegen";
import { FLOW_COMPILER_OPTIONS, FlowTypeChecker } from "../../src/compile/typecheck";
import { Plan } from "../../src/plan/schema";

const PLANS = new URL("../../fixtures/plans/", import.meta.url);
const names = readdirSync(PLANS)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""))
  .sort();
const loadPlan = (name: string) =>
  Plan.parse(JSON.parse(readFileSync(new URL(`${name}.json`, PLANS), "utf8")));

/** Selectors as the corpus inventory resolves them (group:web is web1 and web2). */
const targets = (plan: Plan) =>
  Object.fromEntries(
    plan.steps.flatMap((s) =>
      s.targets
        ? [
            [
              s.id,
              s.targets.flatMap((t) => {
                if (t === "group:web") return ["web1", "web2"];
                const param = /^\{\{params\.(\w+)\}\}$/.exec(t)?.[1];
                const value = plan.params.find((p) => p.name === param)?.default;
                return param ? (Array.isArray(value) ? value : [String(value)]) : [t];
              }),
            ],
          ]
        : [],
    ),
  );

const strict = new FlowTypeChecker({
  ...FLOW_COMPILER_OPTIONS,
  noUnusedLocals: true,
  noUnusedParameters: true,
  allowUnreachableCode: false,
  allowUnusedLabels: false,
});

describe("generated source of every corpus plan reads like a person wrote it", () => {
  it.each(names)("%s: no dead code, lines within 100 columns, byte-identical on every run", (name) => {
    const plan = loadPlan(name);
    const source = new FlowCodegen().generate(plan, targets(plan));
    expect(strict.check(source)).toEqual([]);
    // Only a long command, script or message may run past the margin: it is never cut.
    const long = source.split("\n").filter((l) => l.length > 100);
    expect(long.filter((l) => !/(sh|ps|uri)?`[^`]{40,}`|"[^"]{60,}"/.test(l))).toEqual([]);
    expect(source).not.toMatch(/\n\n\n/);
    expect(new FlowCodegen().generate(structuredClone(plan), targets(plan))).toBe(source);
  });
});
