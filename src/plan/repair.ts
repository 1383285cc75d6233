import { assertKnownHosts } from "./hosts";
import { type Issue, issuesFromZod, summarizeIssues } from "./issues";
import { planJsonSchema } from "./json-schema";
import { libraryExamplesPrompt, prompt } from "./prompts";
import {
  checkIntent,
  type InventoryView,
  type PlannedResult,
  type PlannerContext,
  PlanningError,
} from "./provider";
import { Plan } from "./schema";

/**
 * The loop every LLM provider shares: ask, validate the reply against the Plan schema (zod,
 * with its cross-field rules), and when it fails send the problems back and ask again, a
 * bounded number of times. Providers only supply `complete`: one chat call.
 */

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** One LLM call: the conversation so far → the text of the reply. Transport errors are PlanningErrors. */
export type Complete = (messages: readonly ChatMessage[]) => Promise<string>;

export const DEFAULT_MAX_REPAIRS = 2;

/** How much of a bad reply is echoed back in the conversation: enough to repair, not a flood. */
const MAX_ECHO = 16_000;
const MAX_ISSUES_SHOWN = 20;

export type RepairLoopOptions = {
  intent: string;
  ctx: PlannerContext;
  /** Provider name for results and messages ("ollama:llama3.1"). */
  provider: string;
  complete: Complete;
  maxRepairs?: number;
};

export async function planWithRepairs(opts: RepairLoopOptions): Promise<PlannedResult> {
  const intent = checkIntent(opts.intent);
  const messages: ChatMessage[] = [
    { role: "system", content: await systemPrompt(opts.ctx.inventory, opts.ctx.examples) },
    { role: "user", content: intent },
  ];
  return repairLoop(opts, messages, intent);
}

export type RefineLoopOptions = Omit<RepairLoopOptions, "intent"> & {
  /** The plan as it stands. */
  plan: Plan;
  /** The operator's change request, in words ("also check disk", "only on web1"). */
  message: string;
};

/**
 * A change to an existing plan, through the same loop: the model is given the same system
 * prompt, the current plan as JSON and the change asked for, and must answer with the whole
 * new plan. Its `intent` becomes the old intent followed by the change, in the operator's words.
 */
export async function refineWithRepairs(opts: RefineLoopOptions): Promise<PlannedResult> {
  const message = checkIntent(opts.message);
  const intent = refinedIntent(opts.plan.intent, message);
  const messages: ChatMessage[] = [
    { role: "system", content: await systemPrompt(opts.ctx.inventory) },
    {
      role: "user",
      content: await prompt("chat-refine", {
        plan: JSON.stringify(opts.plan),
        change: message,
      }),
    },
  ];
  return repairLoop(opts, messages, intent);
}

/** The refined plan's `intent`: what was asked first, then each change, cut to the schema's limit. */
export function refinedIntent(before: string, change: string): string {
  const text = `${before}; then: ${change}`;
  return text.length <= 4000 ? text : `${text.slice(0, 3999)}…`;
}

async function repairLoop(
  opts: Omit<RepairLoopOptions, "intent">,
  messages: ChatMessage[],
  intent: string,
): Promise<PlannedResult> {
  const maxRepairs = opts.maxRepairs ?? DEFAULT_MAX_REPAIRS;
  for (let attempt = 1; ; attempt++) {
    const reply = await opts.complete(messages);
    const read = readPlanReply(reply, intent);
    if (read.ok) {
      // Unknown hosts are not repaired: the LLM would only guess another name. The operator decides.
      assertKnownHosts(read.plan, opts.ctx.inventory);
      return { plan: read.plan, provider: opts.provider, attempts: attempt };
    }
    if (attempt > maxRepairs)
      throw new PlanningError(
        "llm_invalid_plan",
        `${opts.provider} gave no valid plan in ${attempt} attempt(s): ${summarizeIssues(read.issues)}. ` +
          "Rephrase the intent, use a stronger model, or submit the plan as JSON.",
        { provider: opts.provider, attempts: attempt, issues: read.issues },
      );
    messages.push(
      { role: "assistant", content: cut(reply, MAX_ECHO) },
      { role: "user", content: await repairPrompt(read.issues) },
    );
  }
}

export type PlanReply = { ok: true; plan: Plan } | { ok: false; issues: Issue[] };

/**
 * A reply's text → a validated Plan, or the issues to send back. The plan's `intent` is set
 * to the operator's words: the schema asks for them as given, and we have them exactly.
 */
export function readPlanReply(reply: string, intent: string): PlanReply {
  const json = parseJsonObject(reply);
  if (!json.ok) return { ok: false, issues: [{ path: "(reply)", message: json.message }] };
  const parsed = Plan.safeParse({ ...json.value, intent });
  return parsed.success
    ? { ok: true, plan: parsed.data }
    : { ok: false, issues: issuesFromZod(parsed.error) };
}

type JsonResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/**
 * The JSON object in a reply. Back ends that ignore the requested format tend to wrap JSON
 * in a Markdown fence or a sentence, so the outermost `{…}` is tried when the whole is not JSON.
 */
function parseJsonObject(reply: string): JsonResult {
  const text = reply.trim();
  if (!text) return { ok: false, message: "the reply was empty; answer with the plan as a JSON object" };
  let first: unknown;
  try {
    first = JSON.parse(text);
  } catch (error) {
    const start = text.indexOf("{");
    const end = text.lastIndexOf("}");
    try {
      if (start < 0 || end <= start) throw error;
      first = JSON.parse(text.slice(start, end + 1));
    } catch {
      return {
        ok: false,
        message: `not valid JSON (${(error as Error).message}); reply with one JSON object`,
      };
    }
  }
  if (typeof first !== "object" || first === null || Array.isArray(first))
    return { ok: false, message: "expected a JSON object at the top level" };
  return { ok: true, value: first as Record<string, unknown> };
}

/**
 * The system prompt: the schema itself (Ollama does not show `format` to the model), the hosts,
 * and, when the pipeline found close library entries, those as examples (nothing when none).
 */
export async function systemPrompt(
  inventory: InventoryView,
  examples?: PlannerContext["examples"],
): Promise<string> {
  const base = await prompt("plan-system", {
    schema: JSON.stringify(planJsonSchema()),
    inventory: describeInventoryForPrompt(inventory),
  });
  const library = await libraryExamplesPrompt(examples);
  return library ? `${base.trimEnd()}\n\n${library}` : base;
}

function repairPrompt(issues: readonly Issue[]): Promise<string> {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) => `- ${i.path}: ${i.message}`);
  if (issues.length > MAX_ISSUES_SHOWN) shown.push(`- … and ${issues.length - MAX_ISSUES_SHOWN} more`);
  return prompt("plan-repair", { issues: shown.join("\n") });
}

/**
 * Names, groups, tags and OS: picked field by field, so that whatever else an inventory
 * object carries (addresses, users, credential references) can never reach a prompt.
 */
export function describeInventoryForPrompt(view: InventoryView): string {
  if (view.hosts.length === 0) return "(the inventory is empty: there is no host a plan can target)";
  const hosts = view.hosts.map((h) => {
    const groups = h.groups.length ? h.groups.join(", ") : "none";
    const tags = h.tags.length ? h.tags.join(", ") : "none";
    return `- ${h.name} (${h.os}; groups: ${groups}; tags: ${tags})`;
  });
  return [
    "Hosts:",
    ...hosts,
    `Groups: ${view.groups.join(", ") || "(none)"}`,
    `Tags: ${view.tags.join(", ") || "(none)"}`,
  ].join("\n");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n…(cut)`;
}
