import type { Role } from "../config";
import type { FlowVersionRecord, Store } from "../store/types";
import { storedRunnableHash } from "./hash";

export class ApprovalRefused extends Error {
  constructor(
    readonly code: "not_found" | "forbidden" | "conflict" | "hash_mismatch",
    message: string,
  ) {
    super(message);
    this.name = "ApprovalRefused";
  }
}

export type Actor = { name: string; role: Role };

type Verb = "approve" | "reject";

/** The checks both decisions share: the role, the version, and that it still awaits a decision. */
async function pendingVersion(
  store: Store,
  flowId: string,
  version: number,
  actor: Actor,
  verb: Verb,
): Promise<FlowVersionRecord> {
  if (actor.role === "requester")
    throw new ApprovalRefused(
      "forbidden",
      `${actor.name} is a requester: ${verb === "approve" ? "approving" : "rejecting"} needs the reviewer or admin role`,
    );
  const v = await store.getVersion(flowId, version);
  if (!v) throw new ApprovalRefused("not_found", `flow ${flowId} has no version ${version}`);
  if (v.status !== "pending")
    throw new ApprovalRefused("conflict", `version ${version} is already ${v.status}`);
  return v;
}

/** Records a decision the store took (or refuses when another reviewer decided first). */
async function recorded(
  store: Store,
  decided: FlowVersionRecord | undefined,
  actor: Actor,
  action: "version.approved" | "version.rejected",
  at: string,
  detail: Record<string, unknown>,
): Promise<FlowVersionRecord> {
  if (!decided)
    throw new ApprovalRefused("conflict", "the version was approved or rejected by someone else meanwhile");
  await store.appendAudit({
    at,
    actor: actor.name,
    action,
    subject: `flow:${decided.flowId}@${decided.version}`,
    detail,
  });
  return decided;
}

/**
 * A reviewer approves exactly what is stored now: the hash is recomputed from the stored
 * bundle (or plan) and pinned, so a later change to either makes the engines refuse to run.
 */
export async function approveVersion(
  store: Store,
  flowId: string,
  version: number,
  actor: Actor,
  comment: string | null,
  policy: { fourEyes: boolean } = { fourEyes: false },
): Promise<FlowVersionRecord> {
  const v = await pendingVersion(store, flowId, version, actor, "approve");
  if (policy.fourEyes && v.createdBy === actor.name)
    throw new ApprovalRefused(
      "forbidden",
      `four-eyes policy: ${actor.name} asked for this version, so someone else must approve it`,
    );
  if (v.diagnostics.some((d) => d.severity === "error"))
    throw new ApprovalRefused("conflict", "a version with compile errors cannot be approved");
  const plan = (await store.getPlan(v.planId))?.plan;
  if (storedRunnableHash(v, plan) !== v.hash)
    throw new ApprovalRefused("hash_mismatch", "the stored flow no longer matches its recorded hash");
  const at = new Date().toISOString();
  const approved = await store.approveVersion(flowId, version, { by: actor.name, at, hash: v.hash, comment });
  return recorded(store, approved, actor, "version.approved", at, { hash: v.hash, comment });
}

/** A reviewer turns a pending version down, with a reason the requester can act on. */
export async function rejectVersion(
  store: Store,
  flowId: string,
  version: number,
  actor: Actor,
  reason: string,
): Promise<FlowVersionRecord> {
  await pendingVersion(store, flowId, version, actor, "reject");
  const at = new Date().toISOString();
  const rejected = await store.rejectVersion(flowId, version, { by: actor.name, at, reason });
  return recorded(store, rejected, actor, "version.rejected", at, { reason });
}
