import type { CommandPolicy } from "../capabilities/command-policy";
import type { Inventory } from "../inventory/types";
import type { Plan } from "./schema";

/** What a planner may know about the world: host names, groups, tags and OS, nothing else. */
export type InventoryView = ReturnType<Inventory["describe"]>;

/**
 * A reviewed flow from the library, shown to an LLM planner as an example of how the team does
 * things: the entry's name and description, one of its example intents, and its approved plan.
 */
export type PlannerExample = {
  name: string;
  description: string;
  intent: string;
  plan: Plan;
};

export type PlannerContext = {
  inventory: InventoryView;
  /**
   * The library entries closest to the intent (below the reuse threshold), best first: LLM
   * planners put them in their prompt so new flows follow established patterns. None: no section.
   */
  examples?: readonly PlannerExample[];
  /** Which commands change machines, when a refinement must tell (the admin's policy; built-in rules if absent). */
  commandPolicy?: CommandPolicy;
};

export type PlannedResult = {
  plan: Plan;
  /** Which planner made it: "offline", "ollama:llama3.1", "openai:gpt-4o-mini". */
  provider: string;
  /** LLM calls it took (1 + repairs); 0 for the offline planner. */
  attempts: number;
};

/** Turns intent text into a validated Plan that names only hosts the inventory knows. */
export interface PlanProvider {
  readonly name: string;
  plan(intent: string, ctx: PlannerContext): Promise<PlannedResult>;
  /**
   * The plan changed as the operator asks ("also check disk", "only on web1", "no restart,
   * just report"): a whole new validated plan naming only known hosts. Providers without it
   * are refined by the offline rules (src/plan/offline/refine.ts).
   */
  refine?(plan: Plan, message: string, ctx: PlannerContext): Promise<PlannedResult>;
}

export type PlanningErrorCode =
  /** The offline planner has no entry for this intent (details.understands lists what it has). */
  | "not_understood"
  /** The intent is empty or too long to plan. */
  | "invalid_intent"
  /** The plan names hosts, groups or tags the inventory does not have. */
  | "unknown_host"
  /** The LLM's replies stayed invalid after every repair (details.issues). */
  | "llm_invalid_plan"
  /** The LLM service could not be reached or did not answer in time. */
  | "llm_unreachable"
  /** The LLM service answered with an error (bad key, unknown model, quota, ...). */
  | "llm_request_failed";

const HTTP_STATUS: Record<PlanningErrorCode, number> = {
  not_understood: 422,
  invalid_intent: 400,
  unknown_host: 422,
  llm_invalid_plan: 502,
  llm_unreachable: 503,
  llm_request_failed: 502,
};

/** Planning failed; `code` is stable for callers, `message` says what a person can do about it. */
export class PlanningError extends Error {
  constructor(
    readonly code: PlanningErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PlanningError";
  }

  /** The HTTP status an API answers with: the caller's fault (4xx) or the LLM's (5xx). */
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Longest intent accepted: the Plan's `intent` field holds it as given. */
export const MAX_INTENT_LENGTH = 4000;

/** The intent, trimmed; throws `invalid_intent` when there is nothing to plan or too much. */
export function checkIntent(intent: unknown): string {
  const text = typeof intent === "string" ? intent.trim() : "";
  if (!text)
    throw new PlanningError("invalid_intent", "the intent is empty: say what should be done, and where");
  if (text.length > MAX_INTENT_LENGTH)
    throw new PlanningError(
      "invalid_intent",
      `the intent is ${text.length} characters long; at most ${MAX_INTENT_LENGTH} are accepted`,
    );
  return text;
}
