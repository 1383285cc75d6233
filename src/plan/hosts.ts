import { expandRange, resolveSelectors } from "../inventory/selectors";
import { UnknownHostError } from "../inventory/types";
import type { Issue } from "./issues";

export { expandRange };
import { type InventoryView, PlanningError } from "./provider";
import type { Plan } from "./schema";

/**
 * Host selectors as plans write them, checked against what the planner was shown:
 * `web1`, `group:web`, `tag:prod`, `web[1-3]` (also `web[01-03]`), `*` or `all`, `{{params.NAME}}`
 * (the grammar src/inventory/selectors.ts resolves).
 * The inventory module resolves them for real at run time; this only catches names the
 * planner made up, before anyone reviews a plan that cannot run.
 */

/** The host names a selector stands for, or null when the inventory has no such host/group/tag. */
export function resolveSelector(view: InventoryView, raw: string): string[] | null {
  try {
    return resolveSelectors(view.hosts, [raw]);
  } catch (e) {
    if (e instanceof UnknownHostError) return null;
    throw e;
  }
}

const PARAM_SELECTOR = /^\{\{\s*params\.[A-Za-z0-9_]+\s*\}\}$/;

export type UnknownSelector = { path: string; selector: string };

/** Every selector in the plan (step targets, defaults of `hosts` params) the inventory lacks. */
export function unknownSelectors(plan: Plan, view: InventoryView): UnknownSelector[] {
  const found: UnknownSelector[] = [];
  const check = (selector: string, path: string) => {
    if (PARAM_SELECTOR.test(selector.trim())) return;
    if (!resolveSelector(view, selector)) found.push({ path, selector });
  };
  plan.steps.forEach((s, i) => {
    s.targets?.forEach((t, j) => {
      check(t, `steps[${i}].targets[${j}]`);
    });
  });
  plan.params.forEach((p, i) => {
    if (p.type === "hosts" && Array.isArray(p.default))
      p.default.forEach((t, j) => {
        check(t, `params[${i}].default[${j}]`);
      });
  });
  return found;
}

/** The same, as issues for a PlanInputError or a repair prompt. */
export function unknownSelectorIssues(plan: Plan, view: InventoryView): Issue[] {
  return unknownSelectors(plan, view).map((u) => ({
    path: u.path,
    message: `unknown host or selector "${u.selector}"`,
  }));
}

/** "hosts: web1, web2; groups: web; tags: prod", for messages that tell a person what exists. */
export function describeKnownHosts(view: InventoryView): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.join(", ") : "(none)");
  return `hosts: ${list(view.hosts.map((h) => h.name))}; groups: ${list(view.groups)}; tags: ${list(view.tags)}`;
}

/** An `unknown_host` PlanningError for these selectors, listing what the inventory has. */
export function unknownHostError(selectors: readonly string[], view: InventoryView): PlanningError {
  const unique = [...new Set(selectors)];
  return new PlanningError(
    "unknown_host",
    `not in the inventory: ${unique.map((s) => `"${s}"`).join(", ")}; known ${describeKnownHosts(view)}`,
    {
      unknown: unique,
      known: { hosts: view.hosts.map((h) => h.name), groups: view.groups, tags: view.tags },
    },
  );
}

/** Throws `unknown_host` when the plan names anything the inventory does not have. */
export function assertKnownHosts(plan: Plan, view: InventoryView): void {
  const unknown = unknownSelectors(plan, view);
  if (unknown.length)
    throw unknownHostError(
      unknown.map((u) => u.selector),
      view,
    );
}
