import { createHash } from "node:crypto";
import type { Plan } from "../plan/schema";
import type { Engine } from "../store/types";
import { type Complexity, scoreComplexity, usesStepOutput, type Weights } from "./score";

export type EnginePreference = "auto" | Engine;

export type RouteOptions = {
  preference: EnginePreference;
  /** With a preference of queue or flow: use it or fail, never substitute. */
  force: boolean;
  flowAvailable: boolean;
  /** Share (0–100) of auto-routed, queue-capable plans sent to the flow engine anyway. */
  flowRolloutPercent: number;
  weights?: Weights;
};

export type RouteDecision = Complexity & {
  engine: Engine;
  /** Features that only the flow engine executes; empty when the queue engine can run the plan. */
  flowOnly: string[];
  reason: string;
};

export class RouteError extends Error {
  readonly code = "route_impossible";
  constructor(message: string) {
    super(message);
    this.name = "RouteError";
  }
}

/** What in the plan the queue engine cannot execute (it runs linear step × host jobs only). */
export function flowOnlyFeatures(plan: Plan): string[] {
  const found: string[] = [];
  for (const s of plan.steps) {
    if (s.when) found.push(`step "${s.id}" has a condition`);
    if (s.until) found.push(`step "${s.id}" polls until a condition holds`);
    if (s.onError && s.onError.mode !== "fail")
      found.push(`step "${s.id}" has an error handler (${s.onError.mode})`);
    if (s.trigger === "on_error") found.push(`step "${s.id}" is an error handler`);
    if (usesStepOutput(s)) found.push(`step "${s.id}" uses another step's output`);
  }
  return found;
}

/**
 * Deterministic share of traffic: the same plan always lands in the same bucket, so a
 * resubmitted intent does not flip engines between attempts.
 */
function rolloutBucket(plan: Plan): number {
  return createHash("sha256").update(JSON.stringify(plan.steps)).digest().readUInt32BE(0) % 100;
}

export function route(plan: Plan, options: RouteOptions): RouteDecision {
  const complexity = scoreComplexity(plan, options.weights);
  const flowOnly = flowOnlyFeatures(plan);
  const decide = (engine: Engine, reason: string): RouteDecision => ({
    ...complexity,
    engine,
    flowOnly,
    reason,
  });
  const needs = flowOnly.length ? `needs the flow engine: ${flowOnly.join("; ")}` : "";

  if (options.force && options.preference !== "auto") {
    if (options.preference === "queue" && flowOnly.length)
      throw new RouteError(`cannot force the queue engine: the plan ${needs}`);
    if (options.preference === "flow" && !options.flowAvailable)
      throw new RouteError("cannot force the flow engine: it is not available on this server");
    return decide(options.preference, `forced by the caller`);
  }

  if (flowOnly.length) {
    if (!options.flowAvailable)
      throw new RouteError(`the plan ${needs}, and the flow engine is not available`);
    return decide("flow", `the plan ${needs}`);
  }
  if (!options.flowAvailable)
    return decide("queue", "flow engine unavailable; the plan is linear, so the queue engine runs it");
  if (options.preference !== "auto")
    return decide(options.preference, `preferred by the caller (${options.preference})`);
  if (complexity.level === "complex" || complexity.level === "advanced")
    return decide("flow", `${complexity.level} plan (score ${complexity.score}): the flow engine handles it`);
  if (rolloutBucket(plan) < options.flowRolloutPercent)
    return decide(
      "flow",
      `${complexity.level} plan sent to the flow engine by the ${options.flowRolloutPercent}% rollout`,
    );
  return decide(
    "queue",
    `${complexity.level} plan (score ${complexity.score}) with no flow-only features: the queue engine is faster`,
  );
}
