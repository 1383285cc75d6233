import { randomUUID } from "node:crypto";
import type { Inventory } from "../inventory/types";
import type { RouteDecision } from "../route";
import { LibraryNameTaken } from "../store/library";
import type { FlowVersionRecord, LibraryEntryRecord, LibraryParam, Store } from "../store/types";
import type { Plan } from "../plan/schema";
import { type LibraryMatch, matchLibrary } from "./match";

export { LIBRARY_THRESHOLD, matchLibrary } from "./match";

export class LibraryError extends Error {
  constructor(
    readonly code: "not_found" | "not_approved" | "name_taken" | "hosts_widened",
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "LibraryError";
  }
}

/** The entry's parameters: the plan's declared params, with a description for each. */
export function paramsOf(plan: Plan): LibraryParam[] {
  return plan.params.map((p) => ({
    name: p.name,
    type: p.type,
    description:
      p.description ??
      (p.type === "hosts" ? "the hosts to act on (inventory selectors)" : `${p.type} parameter ${p.name}`),
    default: p.default,
  }));
}

/** A reviewer promotes an approved version: its params and approved host set are read from it. */
export async function promote(
  store: Store,
  req: { flowId: string; version: number; name: string; description: string; examples: string[] },
  actor: string | null,
): Promise<LibraryEntryRecord> {
  const v = await store.getVersion(req.flowId, req.version);
  if (!v) throw new LibraryError("not_found", `flow ${req.flowId} has no version ${req.version}`, "version");
  if (v.status !== "approved" || !v.approvedHash)
    throw new LibraryError(
      "not_approved",
      `version ${req.version} is ${v.status}: only approved versions are promoted`,
      "version",
    );
  const plan = await store.getPlan(v.planId);
  if (!plan) throw new LibraryError("not_found", `plan ${v.planId} is missing`);
  const entry: LibraryEntryRecord = {
    id: randomUUID(),
    name: req.name,
    description: req.description,
    flowId: v.flowId,
    version: v.version,
    params: paramsOf(plan.plan),
    examples: req.examples.length ? req.examples : [plan.plan.intent],
    approvedHosts: [...new Set(Object.values(v.targets).flat())],
    createdBy: actor,
    createdAt: new Date().toISOString(),
  };
  if ((await store.listLibraryEntries()).some((e) => e.name === entry.name))
    throw new LibraryError("name_taken", `a library entry named "${entry.name}" exists already`, "name");
  await store.promoteLibraryEntry(entry).catch((e: unknown) => {
    // Two promotions racing for one name: the table's unique name decides.
    if (e instanceof LibraryNameTaken) throw new LibraryError("name_taken", e.message, "name");
    throw e;
  });
  await store.appendAudit({
    at: entry.createdAt,
    actor: actor ?? "system",
    action: "library.promoted",
    subject: `flow:${v.flowId}@${v.version}`,
    detail: { entry: entry.id, name: entry.name, hash: v.approvedHash },
  });
  return entry;
}

export type LibraryReuse = {
  match: LibraryMatch;
  version: FlowVersionRecord;
  plan: Plan;
  route: RouteDecision;
};

/**
 * The library's answer to an intent, before any planner is asked: the approved version of the
 * best entry, with the parameters read from the intent. Hosts inside the approved set reuse the
 * approval; hosts outside it are refused (409 hosts_widened: ask without the library, or promote
 * a wider version). An intent naming a strict subset of the approved hosts is not answered here
 * (the compiled flow targets its approved hosts; narrowing needs a new version) and goes on to
 * the planner.
 */
export async function reuseFromLibrary(
  store: Store,
  inventory: Inventory,
  text: string,
): Promise<LibraryReuse | null> {
  const entries = await store.listLibraryEntries();
  const match = matchLibrary(entries, text, inventory);
  if (!match) return null;
  const { entry } = match;
  if (match.hosts) {
    const approved = new Set(entry.approvedHosts);
    const outside = match.hosts.filter((h) => !approved.has(h));
    if (outside.length)
      throw new LibraryError(
        "hosts_widened",
        `the library flow "${entry.name}" is approved for ${entry.approvedHosts.join(", ")}; ` +
          `${outside.join(", ")} would widen its reach and needs a new, reviewed version`,
        "text",
        {
          entry: entry.id,
          flowId: entry.flowId,
          version: entry.version,
          outside,
          approvedHosts: entry.approvedHosts,
        },
      );
    if (match.hosts.length !== approved.size) return null;
  }
  const version = await store.getVersion(entry.flowId, entry.version);
  if (!version || version.status !== "approved") return null;
  const plan = await store.getPlan(version.planId);
  if (!plan) return null;
  return { match, version, plan: plan.plan, route: version.route as RouteDecision };
}
