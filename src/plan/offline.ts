import { resolveSelector, unknownHostError } from "./hosts";
import { describeCatalogue, HOST_FORMS, OFFLINE_CATALOGUE } from "./offline/catalogue";
import { dnsTasks, httpTasks, pingTasks, portTasks, thresholdTasks } from "./offline/checks";
import { findHosts, looksLikeHost } from "./offline/hosts";
import { logSearchTasks, versionTasks } from "./offline/reads";
import { serviceTasks } from "./offline/service";
import { refineOffline } from "./offline/refine";
import { IdPool, type Matcher, type Task } from "./offline/task";
import { IntentText } from "./offline/text";
import { FILLER_WORDS, UNSUPPORTED_VERBS } from "./offline/words";
import {
  checkIntent,
  type InventoryView,
  type PlannedResult,
  type PlannerContext,
  PlanningError,
  type PlanProvider,
} from "./provider";
import { Plan } from "./schema";

export { OFFLINE_CATALOGUE } from "./offline/catalogue";

/**
 * A planner that needs no LLM: it recognises the intents of a fixed catalogue
 * (OFFLINE_CATALOGUE, documented in OFFLINE.md) and answers everything else with
 * "not_understood" listing what it does understand. Same intent and inventory, same plan.
 */
export class OfflinePlanner implements PlanProvider {
  readonly name = "offline";

  async plan(intent: string, ctx: PlannerContext): Promise<PlannedResult> {
    return { plan: planOffline(intent, ctx.inventory), provider: this.name, attempts: 0 };
  }

  async refine(plan: Plan, message: string, ctx: PlannerContext): Promise<PlannedResult> {
    return {
      plan: refineOffline(plan, message, ctx.inventory, planOffline, ctx.commandPolicy),
      provider: this.name,
      attempts: 0,
    };
  }
}

/**
 * Which rules read the intent, in order. Free text that can contain anything (URLs, log
 * search strings) is taken first, then hosts, then the rest; the service rule comes last as
 * it takes whatever word follows "check".
 */
const BEFORE_HOSTS: readonly Matcher[] = [httpTasks, logSearchTasks];
const AFTER_HOSTS: readonly Matcher[] = [
  versionTasks,
  thresholdTasks,
  portTasks,
  pingTasks,
  dnsTasks,
  serviceTasks,
];

export function planOffline(rawIntent: string, inventory: InventoryView): Plan {
  const intent = checkIntent(rawIntent);
  const text = new IntentText(intent);
  const early = BEFORE_HOSTS.flatMap((match) => match(text, inventory));
  const hosts = findHosts(text, inventory);
  const tasks = [...early, ...AFTER_HOSTS.flatMap((match) => match(text, inventory))].sort(
    (a, b) => a.at - b.at,
  );

  // Left-over words that look like machines ("ping web9") are unknown hosts, not gibberish.
  const leftover = text.leftoverWords().filter((w) => !FILLER_WORDS.has(w));
  const words = leftover.filter((w) => !looksLikeHost(w));
  if (tasks.length === 0 || words.length)
    throw notUnderstood(intent, tasks.length ? words : words.filter((w) => UNSUPPORTED_VERBS.has(w)));
  const unknown = [...hosts.unknown, ...leftover.filter(looksLikeHost)];
  if (unknown.length) throw unknownHostError(unknown, inventory);
  const needHosts = tasks.filter((t) => !t.targets);
  if (needHosts.length && hosts.selectors.length === 0) throw noHostsNamed(inventory);
  assertLinux(tasks, hosts.selectors, inventory);

  const ids = new IdPool();
  const steps = tasks.flatMap((t) => t.steps(t.targets ?? hosts.selectors, ids));
  const parsed = Plan.safeParse({ title: title(tasks), intent, params: [], steps });
  // A failure here is a bug in a rule, not in the intent; say so rather than hand on a bad plan.
  if (!parsed.success) throw new Error(`offline planner built an invalid plan: ${parsed.error.message}`);
  return parsed.data;
}

function title(tasks: readonly Task[]): string {
  const text = tasks.map((t) => t.summary).join("; ");
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return capital.length > 200 ? `${capital.slice(0, 199)}…` : capital;
}

/** Shell tasks write linux commands; on a windows host they would fail or, worse, do something else. */
function assertLinux(tasks: readonly Task[], selectors: readonly string[], inventory: InventoryView): void {
  if (!tasks.some((t) => t.shell)) return;
  const names = new Set(selectors.flatMap((s) => resolveSelector(inventory, s) ?? []));
  const windows = inventory.hosts.filter((h) => names.has(h.name) && h.os === "windows").map((h) => h.name);
  if (windows.length)
    throw new PlanningError(
      "not_understood",
      `the offline planner writes linux shell commands, and ${windows.join(", ")} ${windows.length > 1 ? "are windows hosts" : "is a windows host"}; ` +
        "use an LLM planner (LLM_PROVIDER=ollama or openai) or submit a plan with powershell steps",
      { windows },
    );
}

function notUnderstood(intent: string, leftover: readonly string[]): PlanningError {
  const shown = intent.length > 100 ? `${intent.slice(0, 100)}…` : intent;
  const unsupported = leftover.filter((w) => UNSUPPORTED_VERBS.has(w));
  const quote = (ws: readonly string[]) => [...new Set(ws)].map((w) => `"${w}"`).join(", ");
  const why = unsupported.length
    ? `the offline planner does not ${quote(unsupported)}`
    : leftover.length
      ? `the offline planner did not understand ${quote(leftover)} in "${shown}"`
      : `the offline planner did not understand "${shown}"`;
  return new PlanningError(
    "not_understood",
    `${why}. It understands: ${describeCatalogue()} For anything else configure an LLM (LLM_PROVIDER=ollama or openai) or submit a plan as JSON.`,
    { understands: OFFLINE_CATALOGUE, hostForms: HOST_FORMS, notUnderstood: [...new Set(leftover)] },
  );
}

function noHostsNamed(inventory: InventoryView): PlanningError {
  const known = inventory.hosts.map((h) => h.name);
  return new PlanningError(
    "not_understood",
    `the intent names no host from the inventory: say where, e.g. "on ${known[0] ?? "web1"}" or "on group:${inventory.groups[0] ?? "web"}". ` +
      `Hosts can be named as ${HOST_FORMS.join(", ")}. Known hosts: ${known.join(", ") || "(none)"}`,
    { hostForms: HOST_FORMS, known: { hosts: known, groups: inventory.groups, tags: inventory.tags } },
  );
}
