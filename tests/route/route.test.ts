import { describe, expect, it } from "vitest";
import { DEFAULT_WEIGHTS, levelOf, RouteError, route, scoreComplexity } from "../../src/route";
import { checkAndRestartPlan, makePlan, makeStep } from "../helpers/plans";

const auto = { preference: "auto" as const, force: false, flowAvailable: true, flowRolloutPercent: 0 };
const linear = (n: number) =>
  makePlan(Array.from({ length: n }, (_, i) => makeStep(`s${i}`, { dependsOn: i ? [`s${i - 1}`] : [] })));

describe("complexity score", () => {
  it("maps scores to the design's levels at their boundaries", () => {
    expect([0, 30, 31, 60, 61, 80, 81, 100].map(levelOf)).toEqual([
      "simple",
      "simple",
      "moderate",
      "moderate",
      "complex",
      "complex",
      "advanced",
      "advanced",
    ]);
  });

  it("weighs six factors with the design's default weights", () => {
    const c = scoreComplexity(linear(1));
    expect(Object.fromEntries(Object.entries(c.factors).map(([k, f]) => [k, f.weight]))).toEqual(
      DEFAULT_WEIGHTS,
    );
    expect(c.score).toBe(0);
    expect(c.level).toBe("simple");
  });

  it("scores a plan higher as steps, joins, conditions and handlers are added", () => {
    const simple = scoreComplexity(linear(2)).score;
    const longer = scoreComplexity(linear(8)).score;
    const conditional = scoreComplexity(checkAndRestartPlan()).score;
    expect(longer).toBeGreaterThan(simple);
    expect(conditional).toBeGreaterThan(simple);
  });

  it("explains each factor", () => {
    const c = scoreComplexity(checkAndRestartPlan());
    expect(c.factors.conditionalLogic.why).toContain("1 condition");
    expect(c.factors.conditionalLogic.score).toBeGreaterThan(0);
  });

  it("honours configured weights", () => {
    const onlySteps = {
      ...DEFAULT_WEIGHTS,
      dependencies: 0,
      parallelExecution: 0,
      conditionalLogic: 0,
      errorHandling: 0,
      advancedFeatures: 0,
    };
    expect(scoreComplexity(linear(10), onlySteps).score).toBe(100);
  });

  it("is a pure function of the plan", () => {
    expect(scoreComplexity(checkAndRestartPlan())).toEqual(scoreComplexity(checkAndRestartPlan()));
  });
});

describe("engine choice", () => {
  it("sends a simple linear plan to the queue engine", () => {
    const d = route(linear(2), auto);
    expect(d.engine).toBe("queue");
    expect(d.reason).toMatch(/queue engine/);
  });

  it("always sends conditions to the flow engine, saying why", () => {
    const d = route(checkAndRestartPlan(), { ...auto, preference: "queue" });
    expect(d.engine).toBe("flow");
    expect(d.flowOnly).toEqual(['step "restart_nginx" has a condition']);
    expect(d.reason).toContain("restart_nginx");
  });

  it("refuses to force the queue engine onto a plan it cannot run", () => {
    expect(() => route(checkAndRestartPlan(), { ...auto, preference: "queue", force: true })).toThrow(
      RouteError,
    );
  });

  it("honours a forced or preferred engine when it can", () => {
    expect(route(linear(2), { ...auto, preference: "flow", force: true }).engine).toBe("flow");
    expect(route(linear(2), { ...auto, preference: "flow" }).engine).toBe("flow");
  });

  it("falls back to the queue engine when the flow engine is unavailable", () => {
    const d = route(linear(2), { ...auto, preference: "flow", flowAvailable: false });
    expect(d.engine).toBe("queue");
    expect(d.reason).toMatch(/unavailable/);
    expect(() => route(checkAndRestartPlan(), { ...auto, flowAvailable: false })).toThrow(/not available/);
  });

  it("sends the rollout share of auto traffic to the flow engine, deterministically", () => {
    expect(route(linear(2), { ...auto, flowRolloutPercent: 100 }).engine).toBe("flow");
    expect(route(linear(2), { ...auto, flowRolloutPercent: 0 }).engine).toBe("queue");
    const plans = Array.from({ length: 200 }, (_, i) =>
      makePlan([makeStep("s0", { action: { kind: "ssh", command: `echo ${i}` } })]),
    );
    const share =
      plans.filter((p) => route(p, { ...auto, flowRolloutPercent: 30 }).engine === "flow").length /
      plans.length;
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.42);
    expect(plans.map((p) => route(p, { ...auto, flowRolloutPercent: 30 }).engine)).toEqual(
      plans.map((p) => route(p, { ...auto, flowRolloutPercent: 30 }).engine),
    );
  });

  it("routes complex plans to the flow engine even without flow-only features", () => {
    const wide = makePlan([
      ...Array.from({ length: 6 }, (_, i) =>
        makeStep(`a${i}`, { retry: { attempts: 3, backoffMs: 100, factor: 2 }, timeoutMs: 1000 }),
      ),
      makeStep("join", {
        dependsOn: ["a0", "a1", "a2", "a3", "a4", "a5"],
        action: { kind: "http", method: "GET", url: "http://web1/", body: null, expectStatus: 200 },
      }),
      makeStep("after", { dependsOn: ["join", "a0"] }),
    ]);
    const d = route(wide, auto);
    expect(d.flowOnly).toEqual([]);
    expect(["complex", "advanced"]).toContain(d.level);
    expect(d.engine).toBe("flow");
  });
});
