import { describe, expect, it } from "vitest";
import { issuesFromZod } from "../../src/plan/issues";
import { planJsonSchema, strictModeViolations } from "../../src/plan/json-schema";
import { Plan, topologicalOrder } from "../../src/plan/schema";
import { nginxRestartPlan, plan, step } from "./plans";

const issuesOf = (value: unknown) => {
  const r = Plan.safeParse(value);
  return r.success ? [] : issuesFromZod(r.error);
};

describe("Plan schema: cross-field rules", () => {
  it("accepts the nginx check-and-restart plan", () => {
    expect(issuesOf(nginxRestartPlan())).toEqual([]);
  });

  it("rejects duplicate step ids, naming the second", () => {
    expect(issuesOf(plan([step({ id: "a" }), step({ id: "a" })]))).toContainEqual({
      path: "steps[1].id",
      message: 'duplicate step id "a"',
    });
  });

  it("rejects a dependency on a step that does not exist", () => {
    expect(issuesOf(plan([step({ id: "a", dependsOn: ["ghost"] })]))).toContainEqual({
      path: "steps[0].dependsOn[0]",
      message: 'unknown step "ghost"',
    });
  });

  it("rejects a step that depends on itself", () => {
    expect(issuesOf(plan([step({ id: "a", dependsOn: ["a"] })]))).toContainEqual({
      path: "steps[0].dependsOn[0]",
      message: "a step cannot refer to itself",
    });
  });

  it("rejects dependency cycles and names the cycle", () => {
    const issues = issuesOf(
      plan([
        step({ id: "a", dependsOn: ["c"] }),
        step({ id: "b", dependsOn: ["a"] }),
        step({ id: "c", dependsOn: ["b"] }),
      ]),
    );
    expect(issues).toContainEqual({ path: "steps", message: "dependency cycle: a -> c -> b -> a" });
  });

  it("requires a condition's step to be listed in dependsOn", () => {
    const p = nginxRestartPlan();
    p.steps[1]!.dependsOn = [];
    expect(issuesOf(p)).toContainEqual({
      path: "steps[1].when.step",
      message: 'condition reads step "check_nginx", which must be listed in dependsOn',
    });
  });

  it("requires targets for host actions and a port for tcp checks", () => {
    const issues = issuesOf(
      plan([
        step({ id: "a", targets: null }),
        step({ id: "b", action: { kind: "net", check: "tcp", port: null } }),
      ]),
    );
    expect(issues).toContainEqual({ path: "steps[0].targets", message: "a ssh step needs target hosts" });
    expect(issues).toContainEqual({ path: "steps[1].action.port", message: "a tcp check needs a port" });
  });

  it("rejects placeholders naming unknown params or steps not depended on", () => {
    const issues = issuesOf(
      plan([
        step({ id: "a" }),
        step({ id: "b", action: { kind: "ssh", command: "echo {{params.nope}} {{steps.a.stdout}}" } }),
      ]),
    );
    expect(issues.map((i) => i.message)).toEqual([
      "unknown parameter in {{params.nope}}",
      '{{steps.a.stdout}} reads step "a", which must be in dependsOn',
    ]);
  });

  it("orders steps after their dependencies", () => {
    const p = plan([step({ id: "b", dependsOn: ["a"] }), step({ id: "a" })]);
    expect(topologicalOrder(p).map((s) => s.id)).toEqual(["a", "b"]);
  });
});

describe("Plan schema: issues a person (or an LLM) can act on", () => {
  it("reports the meant branch of an action union, not 'Invalid input'", () => {
    const p = plan([step({ id: "a", action: { kind: "ssh" } as never })]);
    expect(issuesOf(p)).toEqual([{ path: "steps[0].action.command", message: "required (string)" }]);
  });

  it("lists the action kinds when the kind is unknown", () => {
    const p = plan([step({ id: "a", action: { kind: "telnet" } as never })]);
    expect(issuesOf(p)).toEqual([
      {
        path: "steps[0].action.kind",
        message: "expected one of ssh, powershell, http, net, sleep, log, notify",
      },
    ]);
  });

  it("says which types a plain union accepts", () => {
    const p = nginxRestartPlan();
    (p.steps[1]!.when as { value: unknown }).value = true;
    expect(issuesOf(p)).toContainEqual({ path: "steps[1].when.value", message: "expected string or number" });
  });
});

describe("planJsonSchema", () => {
  it("is acceptable to OpenAI strict structured outputs", () => {
    expect(strictModeViolations(planJsonSchema())).toEqual([]);
  });

  it("describes the whole plan: title, intent, params, steps", () => {
    const schema = planJsonSchema() as { type: string; required: string[] };
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(["title", "intent", "params", "steps"]);
  });
});
