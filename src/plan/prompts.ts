import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { PlannerExample } from "./provider";

/**
 * LLM prompts live in prompts/*.md as text, so they can be read and reviewed as prose.
 * `{{name}}` is replaced by the value given for `name`; any other `{{…}}` is left as it is,
 * because prompts explain the plan's own placeholders (`{{params.NAME}}`, `{{host}}`).
 */

export const PROMPTS_DIR = fileURLToPath(new URL("../../prompts/", import.meta.url));

const cache = new Map<string, Promise<string>>();

/** A prompt template by name ("plan-system" reads prompts/plan-system.md), read once per process. */
export function loadPrompt(name: string, dir = PROMPTS_DIR): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`invalid prompt name "${name}"`);
  const file = `${dir.replace(/\/?$/, "/")}${name}.md`;
  let text = cache.get(file);
  if (!text) {
    text = readFile(file, "utf8");
    // A failed read is not cached, so a missing file is reported again rather than remembered.
    text.catch(() => cache.delete(file));
    cache.set(file, text);
  }
  return text;
}

/**
 * Substitutes `{{name}}` for each given value, in one pass (a value that itself contains
 * `{{…}}` is not expanded again). Every value must be used: a variable the template does
 * not mention means template and code have drifted apart.
 */
export function renderPrompt(template: string, vars: Record<string, string>): string {
  const unused = new Set(Object.keys(vars));
  const out = template.replace(/\{\{([a-zA-Z_]+)\}\}/g, (whole, key: string) => {
    if (!Object.hasOwn(vars, key)) return whole;
    unused.delete(key);
    return vars[key] ?? "";
  });
  if (unused.size) throw new Error(`prompt has no {{${[...unused].join("}}, {{")}}}`);
  return out;
}

/** Loads and renders a prompt. */
export async function prompt(name: string, vars: Record<string, string>): Promise<string> {
  return renderPrompt(await loadPrompt(name), vars);
}

/** At most this many library examples go into a prompt, each plan at most this long as JSON. */
export const MAX_PROMPT_EXAMPLES = 3;
export const MAX_EXAMPLE_PLAN_CHARS = 3_000;
const MAX_EXAMPLE_TEXT = 300;

/** One line, cut: names, descriptions and intents are text people wrote, not prompt structure. */
function line(text: string, max = MAX_EXAMPLE_TEXT): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * A library example as the prompt shows it: name, description, an example request, and the
 * approved plan as compact JSON. A plan too long to show whole is outlined step by step instead
 * (a cut JSON object would teach the model to write broken ones).
 */
export function renderExample(example: PlannerExample, n: number): string {
  const json = JSON.stringify(example.plan);
  const plan =
    json.length <= MAX_EXAMPLE_PLAN_CHARS
      ? json
      : [
          "(plan outline; the whole plan is too long to show)",
          ...example.plan.steps.map((s) => {
            const action = s.action as { kind: string; command?: string; script?: string; url?: string };
            const what = action.command ?? action.script ?? action.url ?? "";
            return `- ${s.id} [${action.kind}] ${line(what, 200)}${s.dependsOn.length ? ` after ${s.dependsOn.join(", ")}` : ""}`;
          }),
        ].join("\n");
  return [
    `## Example ${n}: ${line(example.name, 200)}`,
    line(example.description),
    `Request: ${line(example.intent)}`,
    plan,
  ].join("\n");
}

/**
 * The library section of the planner's system prompt (prompts/plan-library.md), or "" when
 * there are no examples, so that with an empty library the prompt is exactly as before.
 */
export async function libraryExamplesPrompt(
  examples: readonly PlannerExample[] | undefined,
): Promise<string> {
  const shown = (examples ?? []).slice(0, MAX_PROMPT_EXAMPLES);
  if (!shown.length) return "";
  return prompt("plan-library", { examples: shown.map((e, i) => renderExample(e, i + 1)).join("\n\n") });
}
