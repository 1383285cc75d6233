import { issuesFromZod, PlanInputError } from "./issues";
import { importLegacyWorkflow, looksLikeLegacyWorkflow } from "./legacy";
import { Plan } from "./schema";

export { PlanInputError } from "./issues";

export type PlanInput = { plan: Plan; origin: "plan" | "legacy"; warnings: string[] };

/** The Plan's own step limit; checked before parsing so a million-step body costs nothing. */
const MAX_STEPS = 200;

/**
 * A plan submitted as JSON: either a Plan, or the legacy workflow format (see legacy.ts),
 * told apart by the shape of its steps. Any other value, however hostile, ends in a
 * PlanInputError whose issues name the fields at fault.
 */
export function parsePlanInput(body: unknown): PlanInput {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new PlanInputError([
      { path: "(root)", message: `expected a JSON object with "steps", got ${describe(body)}` },
    ]);
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.steps) && record.steps.length > MAX_STEPS)
    throw new PlanInputError([
      { path: "steps", message: `at most ${MAX_STEPS} steps, got ${record.steps.length}` },
    ]);
  if (looksLikeLegacyWorkflow(record)) {
    const { plan, warnings } = importLegacyWorkflow(record);
    return { plan, origin: "legacy", warnings };
  }
  const parsed = Plan.safeParse(record);
  if (!parsed.success) throw new PlanInputError(issuesFromZod(parsed.error));
  return { plan: parsed.data, origin: "plan", warnings: [] };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}
