import { Plan } from "../src/plan/schema";

/** The plan record a benchmark flow version points to (the flow's source is hand-written). */
export function makePlanForBench(): Plan {
  return Plan.parse({
    title: "benchmark",
    intent: "benchmark",
    params: [],
    steps: [
      {
        id: "bench",
        name: "bench",
        description: null,
        action: { kind: "log", message: "bench" },
        targets: null,
        dependsOn: [],
        when: null,
        until: null,
        retry: null,
        timeoutMs: null,
        concurrency: null,
        onError: null,
        trigger: "normal",
      },
    ],
  });
}
