import { createHash } from "node:crypto";
import type { Plan } from "../plan/schema";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** JSON with object keys sorted, so equal values always hash equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * The hash of what a version runs, which approval pins: the bundle for the flow engine;
 * for the queue engine the plan and the hosts its selectors resolved to.
 */
export function runnableHash(
  input: { bundle: string } | { plan: Plan; targets: Record<string, string[]> },
): string {
  return "bundle" in input
    ? sha256(input.bundle)
    : sha256(canonicalJson({ plan: input.plan, targets: input.targets }));
}

/** The hash of what a stored version would run now; null when what it needs is missing. */
export function storedRunnableHash(
  v: { engine: "queue" | "flow"; bundle: string | null; targets: Record<string, string[]> },
  plan: Plan | undefined,
): string | null {
  if (v.engine === "flow") return v.bundle ? runnableHash({ bundle: v.bundle }) : null;
  return plan ? runnableHash({ plan, targets: v.targets }) : null;
}
