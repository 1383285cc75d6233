import { type Plan, placeholders, type Step } from "../plan/schema";

/**
 * Complexity scoring: six factors, each 0–100, combined by weight into a 0–100 score.
 * Pure: the same plan and weights always give the same score.
 */

export const FACTORS = [
  "stepCount",
  "dependencies",
  "parallelExecution",
  "conditionalLogic",
  "errorHandling",
  "advancedFeatures",
] as const;
export type Factor = (typeof FACTORS)[number];
export type Weights = Record<Factor, number>;

export const DEFAULT_WEIGHTS: Weights = {
  stepCount: 0.2,
  dependencies: 0.25,
  parallelExecution: 0.15,
  conditionalLogic: 0.15,
  errorHandling: 0.1,
  advancedFeatures: 0.15,
};

export type Level = "simple" | "moderate" | "complex" | "advanced";
export type FactorScore = { score: number; weight: number; why: string };
export type Complexity = { score: number; level: Level; factors: Record<Factor, FactorScore> };

const clamp = (n: number) => Math.max(0, Math.min(100, Math.round(n)));

export function levelOf(score: number): Level {
  if (score <= 30) return "simple";
  if (score <= 60) return "moderate";
  if (score <= 80) return "complex";
  return "advanced";
}

export function scoreComplexity(plan: Plan, weights: Weights = DEFAULT_WEIGHTS): Complexity {
  const raw: Record<Factor, { score: number; why: string }> = {
    stepCount: stepCount(plan.steps),
    dependencies: dependencies(plan.steps),
    parallelExecution: parallelExecution(plan.steps),
    conditionalLogic: conditionalLogic(plan.steps),
    errorHandling: errorHandling(plan.steps),
    advancedFeatures: advancedFeatures(plan),
  };
  const total = FACTORS.reduce((sum, f) => sum + weights[f], 0) || 1;
  const factors = Object.fromEntries(
    FACTORS.map((f) => [f, { score: clamp(raw[f].score), weight: weights[f] / total, why: raw[f].why }]),
  ) as Record<Factor, FactorScore>;
  const score = clamp(FACTORS.reduce((sum, f) => sum + factors[f].score * factors[f].weight, 0));
  return { score, level: levelOf(score), factors };
}

/** 1 step scores 0, 10 or more score 100. */
function stepCount(steps: readonly Step[]) {
  return { score: ((steps.length - 1) * 100) / 9, why: `${steps.length} step(s)` };
}

/** A plain chain (each step after the one before) is cheap; joins and fan-outs in the graph are not. */
function dependencies(steps: readonly Step[]) {
  const edges = steps.reduce((n, s) => n + s.dependsOn.length, 0);
  const dependents = new Map<string, number>();
  for (const s of steps) for (const d of s.dependsOn) dependents.set(d, (dependents.get(d) ?? 0) + 1);
  const joins = steps.filter((s) => s.dependsOn.length > 1).length;
  const forks = [...dependents.values()].filter((n) => n > 1).length;
  return {
    score: edges * 10 + (joins + forks) * 25,
    why: `${edges} edge(s), ${joins} join(s), ${forks} fork(s)`,
  };
}

/** Width of the widest level of the graph, plus fan-out of host steps over many targets. */
function parallelExecution(steps: readonly Step[]) {
  const depth = new Map<string, number>();
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depthOf = (s: Step, seen = new Set<string>()): number => {
    const known = depth.get(s.id);
    if (known !== undefined) return known;
    if (seen.has(s.id)) return 0;
    seen.add(s.id);
    const d =
      Math.max(-1, ...s.dependsOn.map((id) => (byId.get(id) ? depthOf(byId.get(id)!, seen) : -1))) + 1;
    depth.set(s.id, d);
    return d;
  };
  const widths = new Map<number, number>();
  for (const s of steps.filter((s) => s.trigger === "normal"))
    widths.set(depthOf(s), (widths.get(depthOf(s)) ?? 0) + 1);
  const width = Math.max(1, ...widths.values());
  const fanOut = Math.max(0, ...steps.map((s) => s.targets?.length ?? 0));
  const limited = steps.some((s) => s.concurrency !== null);
  return {
    score: (width - 1) * 35 + (fanOut > 1 ? 15 : 0) + (limited ? 15 : 0),
    why: `up to ${width} step(s) at once, up to ${fanOut} target selector(s) per step`,
  };
}

function conditionalLogic(steps: readonly Step[]) {
  const when = steps.filter((s) => s.when).length;
  const perHost = steps.filter((s) => s.when?.perHost).length;
  return { score: when * 40 + perHost * 10, why: `${when} condition(s), ${perHost} per host` };
}

function errorHandling(steps: readonly Step[]) {
  const retries = steps.filter((s) => s.retry).length;
  const handlers = steps.filter((s) => s.onError && s.onError.mode !== "fail").length;
  const timeouts = steps.filter((s) => s.timeoutMs !== null).length;
  return {
    score: retries * 20 + handlers * 50 + timeouts * 5,
    why: `${retries} retry policy(ies), ${handlers} error handler(s), ${timeouts} timeout(s)`,
  };
}

function advancedFeatures(plan: Plan) {
  const polling = plan.steps.filter((s) => s.until).length;
  const dataFlow = plan.steps.filter((s) => usesStepOutput(s)).length;
  const special = plan.steps.filter((s) => s.action.kind !== "ssh").length;
  const params = plan.params.length;
  return {
    score: polling * 40 + dataFlow * 40 + special * 10 + params * 5,
    why: `${polling} polling step(s), ${dataFlow} step(s) reading earlier output, ${special} non-ssh step(s), ${params} parameter(s)`,
  };
}

export function usesStepOutput(step: Step): boolean {
  const a = step.action;
  const texts =
    a.kind === "ssh"
      ? [a.command]
      : a.kind === "powershell"
        ? [a.script]
        : a.kind === "http"
          ? [a.url, a.body ?? ""]
          : [];
  return texts.flatMap(placeholders).some((p) => p.startsWith("steps."));
}
