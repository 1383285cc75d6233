import type { Plan, Step } from "../../src/plan/schema";
import { makeStep, nginxRestartPlan } from "../helpers/plans";

export { nginxRestartPlan };

/** A step with every optional field unset; override what a test is about. */
export function step(fields: Partial<Step> & Pick<Step, "id">): Step {
  return makeStep(fields.id, { name: fields.id, action: { kind: "ssh", command: "true" }, ...fields });
}

/** A plan that has not been through the schema, for tests of what the schema refuses. */
export function plan(steps: Step[], extra: Partial<Plan> = {}): Plan {
  return { title: "test plan", intent: "a test", params: [], steps, ...extra };
}
