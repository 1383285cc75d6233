import { uniqueId } from "../legacy";
import type { InventoryView } from "../provider";
import type { Action, Condition, Step } from "../schema";
import type { CatalogueKind } from "./catalogue";
import type { IntentText } from "./text";

/** One thing the intent asks for, recognised by a matcher, ready to become steps. */
export type Task = {
  kind: CatalogueKind;
  /** Where in the intent it was asked for: steps follow the intent's order. */
  at: number;
  /** For the plan's title: "check nginx, restart it where it is down". */
  summary: string;
  /** Writes linux shell commands, so every target must be a linux host. */
  shell: boolean;
  /** Targets of its own (an http check of one URL's host); otherwise the intent's hosts. */
  targets?: string[];
  steps(targets: string[], ids: IdPool): Step[];
};

/** Finds (and takes) the tasks of one kind in the intent; throws PlanningError on bad values. */
export type Matcher = (text: IntentText, inventory: InventoryView) => Task[];

/** Hands out step ids, unique within one plan (check_disk, check_disk_2, …). */
export class IdPool {
  private readonly taken = new Set<string>();

  claim(wanted: string): string {
    const id = uniqueId(wanted, this.taken);
    this.taken.add(id);
    return id;
  }
}

/** A step with everything not given set to its "not used" value. */
export function step(fields: {
  id: string;
  name: string;
  description?: string | null;
  action: Action;
  targets: string[] | null;
  dependsOn?: string[];
  when?: Condition | null;
  timeoutMs?: number | null;
}): Step {
  return {
    id: fields.id,
    name: fields.name,
    description: fields.description ?? null,
    action: fields.action,
    targets: fields.targets,
    dependsOn: fields.dependsOn ?? [],
    when: fields.when ?? null,
    until: null,
    retry: null,
    timeoutMs: fields.timeoutMs ?? null,
    concurrency: null,
    onError: null,
    trigger: "normal",
  };
}

/** "php-fpm" → "php_fpm": a value made fit for a step id. */
export function idPart(value: string | number): string {
  return String(value)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 30);
}
