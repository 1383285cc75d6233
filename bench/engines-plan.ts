import type { Plan } from "../src/plan/schema";
import { makePlan, makeStep } from "../tests/helpers/plans";

/** The plan record a benchmark flow version points to (the flow's source is hand-written). */
export function makePlanForBench(): Plan {
  return makePlan(
    [makeStep("bench", { name: "bench", action: { kind: "log", message: "bench" }, targets: null })],
    { title: "benchmark", intent: "benchmark" },
  );
}
