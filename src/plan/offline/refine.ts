import type { CommandPolicy } from "../../capabilities/command-policy";
import { assessPlan } from "../../review/policy";
import { assertKnownHosts, unknownHostError } from "../hosts";
import { uniqueId } from "../legacy";
import { checkIntent, type InventoryView, PlanningError } from "../provider";
import { refinedIntent } from "../repair";
import { Plan, type Step } from "../schema";
import { findHosts } from "./hosts";
import { IntentText } from "./text";

/**
 * Rule-based refinement of an existing plan, for the offline planner (and any provider
 * without a `refine` of its own). It understands three kinds of change, alone or together:
 *
 * - "only on web1" / "just on group:web": every host step targets the hosts named;
 * - "no restart, just report" / "don't change anything": steps the command policy classifies
 *   as mutating are removed, with the steps that depend on them;
 * - "also check disk" / "add a ping": the rest is planned by the offline planner (on the
 *   plan's own hosts when it names none) and its steps are added.
 *
 * Anything else is "not understood", naming these. Host names go through the same inventory
 * checks as planning: an unknown host is an `unknown_host` error, never a guess.
 */

export const OFFLINE_REFINEMENTS: readonly string[] = [
  '"only on web1" (narrow the hosts)',
  '"no restart, just report" (keep only the steps that read)',
  '"also check disk" (add what the offline planner understands)',
];

const ONLY = /\b(?:only|just|instead)\b/i;
const NO_CHANGE =
  /\b(?:no|don'?t|do\s+not|without|never|skip(?:\s+the)?)\s+(?:restarts?|restarting|changes?|changing|fix(?:ing)?|mutations?)\b|\b(?:just|only)\s+(?:report|check|look|read)\b|\bread[- ]only\b|\breport\s+only\b/i;
const ALSO =
  /^\s*(?:and\s+)?(?:please\s+)?(?:also|additionally|add(?:\s+a|\s+an)?|plus|as\s+well\s+as)\b[\s,:]*/i;

/** Words that may stand around host names in a change of hosts ("only on web1 and web2, please"). */
const HOST_CHANGE_WORDS: ReadonlySet<string> = new Set(
  `only just instead on for and or please the it them this that run do hosts host servers server rather
   but not anywhere else`.split(/\s+/),
);

export type OfflinePlanFn = (intent: string, inventory: InventoryView) => Plan;

export function refineOffline(
  plan: Plan,
  rawMessage: string,
  inventory: InventoryView,
  planIntent: OfflinePlanFn,
  commandPolicy?: CommandPolicy,
): Plan {
  const message = checkIntent(rawMessage);
  let steps = plan.steps.map((s) => structuredClone(s));
  let title = plan.title;
  let understood = false;

  const also = ALSO.exec(message);
  if (also) {
    const rest = message.slice(also[0].length).replace(/[.!]+\s*$/, "");
    const hostsNamed = findHosts(new IntentText(rest), inventory);
    const where = hostSelectors(steps);
    const added = planIntent(
      hostsNamed.selectors.length || hostsNamed.unknown.length || !where.length
        ? rest
        : `${rest} on ${where.join(", ")}`,
      inventory,
    );
    steps = [...steps, ...renamed(added.steps, new Set(steps.map((s) => s.id)))];
    title = cut(`${title}; ${added.title.charAt(0).toLowerCase()}${added.title.slice(1)}`, 200);
    understood = true;
  } else {
    if (NO_CHANGE.test(message)) {
      steps = withoutMutating({ ...plan, steps }, commandPolicy);
      understood = true;
    }
    const text = new IntentText(message);
    const hosts = findHosts(text, inventory);
    if (hosts.unknown.length) throw unknownHostError(hosts.unknown, inventory);
    // "only on web1" narrows; "check memory on web1" is not a narrowing, and is not understood here.
    const plain = text.leftoverWords().every((w) => HOST_CHANGE_WORDS.has(w) || NO_CHANGE.test(w));
    if (hosts.selectors.length && (ONLY.test(message) || !understood) && (understood || plain)) {
      steps = steps.map((s) => (s.targets ? { ...s, targets: [...hosts.selectors] } : s));
      understood = true;
    }
  }
  if (!understood)
    throw new PlanningError(
      "not_understood",
      `the offline planner can change a plan in these ways: ${OFFLINE_REFINEMENTS.join("; ")}. ` +
        "For other changes configure an LLM (LLM_PROVIDER=ollama or openai), or start a new plan.",
      { understands: OFFLINE_REFINEMENTS },
    );
  if (!steps.length)
    throw new PlanningError(
      "not_understood",
      "that change would leave the plan with no steps; say what should still be done",
    );
  const parsed = Plan.safeParse({
    title,
    intent: refinedIntent(plan.intent, message),
    params: plan.params,
    steps,
  });
  // A failure here is a bug in a rule, not in the message.
  if (!parsed.success) throw new Error(`offline refinement built an invalid plan: ${parsed.error.message}`);
  assertKnownHosts(parsed.data, inventory);
  return parsed.data;
}

/** The host selectors a plan's steps use, in order of first use. */
function hostSelectors(steps: readonly Step[]): string[] {
  return [...new Set(steps.flatMap((s) => s.targets ?? []))].filter((t) => !t.startsWith("{{"));
}

/** The plan without its mutating steps and without anything that depends on them. */
function withoutMutating(plan: Plan, policy: CommandPolicy | undefined): Step[] {
  const gone = new Set(assessPlan(plan, policy).mutating.map((m) => m.slice(0, m.indexOf(":"))));
  for (let grew = true; grew;) {
    grew = false;
    for (const s of plan.steps) {
      if (gone.has(s.id)) continue;
      const reads = [...s.dependsOn, ...(s.when ? [s.when.step] : [])];
      if (reads.some((d) => gone.has(d))) {
        gone.add(s.id);
        grew = true;
      }
    }
  }
  return plan.steps
    .filter((s) => !gone.has(s.id))
    .map((s) => {
      const handlers = s.onError?.steps?.filter((h) => !gone.has(h)) ?? null;
      if (!s.onError || handlers === s.onError.steps) return s;
      return {
        ...s,
        onError: handlers?.length ? { ...s.onError, steps: handlers } : { mode: "fail", steps: null },
      };
    });
}

/** Added steps with ids that do not collide with the plan's, references renamed with them. */
function renamed(added: readonly Step[], taken: Set<string>): Step[] {
  const names = new Map<string, string>();
  for (const s of added) {
    const id = uniqueId(s.id, taken);
    taken.add(id);
    names.set(s.id, id);
  }
  const to = (id: string) => names.get(id) ?? id;
  return added.map((s) => ({
    ...s,
    id: to(s.id),
    dependsOn: s.dependsOn.map(to),
    when: s.when ? { ...s.when, step: to(s.when.step) } : null,
    onError: s.onError ? { ...s.onError, steps: s.onError.steps?.map(to) ?? null } : null,
  }));
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
