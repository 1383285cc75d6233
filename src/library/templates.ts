import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Plan, PlanBody } from "../plan/schema";

/**
 * The starter set in templates/library/: one JSON file per common operation, holding the
 * library entry's name, description and example intents, and the plan. A template is not an
 * approved flow: submit its plan (POST /v1/plans), have it reviewed and approved, then promote
 * that version (POST /v1/library) with the template's name, description and examples.
 */
export type LibraryTemplate = {
  slug: string;
  name: string;
  description: string;
  examples: string[];
  plan: Plan;
};

export const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/library/", import.meta.url));

export function loadTemplates(dir = TEMPLATES_DIR): LibraryTemplate[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const raw = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
      const examples = raw.examples;
      if (typeof raw.name !== "string" || typeof raw.description !== "string" || !Array.isArray(examples))
        throw new Error(`${f}: a template needs name, description and examples`);
      return {
        slug: f.replace(/\.json$/, ""),
        name: raw.name,
        description: raw.description,
        examples: examples.map(String),
        plan: PlanBody.parse(raw.plan),
      };
    });
}
