import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

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
