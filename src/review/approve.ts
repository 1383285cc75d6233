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
  if (actor.role === "requester")
    throw new ApprovalRefused(
      "forbidden",
      `${actor.name} is a requester: approving needs the reviewer or admin role`,
    );
  const v = await store.getVersion(flowId, version);
  if (!v) throw new ApprovalRefused("not_found", `flow ${flowId} has no version ${version}`);
  if (policy.fourEyes && v.createdBy === actor.name)
    throw new ApprovalRefused(
      "forbidden",
      `four-eyes policy: ${actor.name} asked for this version, so someone else must approve it`,
    );
  if (v.status !== "pending")
    throw new ApprovalRefused("conflict", `version ${version} is already ${v.status}`);
  if (v.diagnostics.some((d) => d.severity === "error"))
    throw new ApprovalRefused("conflict", "a version with compile errors cannot be approved");
  const plan = (await store.getPlan(v.planId))?.plan;
  if (storedRunnableHash(v, plan) !== v.hash)
    throw new ApprovalRefused("hash_mismatch", "the stored flow no longer matches its recorded hash");
  const at = new Date().toISOString();
  const approved = await store.approveVersion(flowId, version, {
    by: actor.name,
    at,
    hash: v.hash,
    comment,
  });
  if (!approved)
    throw new ApprovalRefused(
      "conflict",
      `version ${version} was approved or rejected by someone else meanwhile`,
    );
  await store.appendAudit({
    at,
    actor: actor.name,
    action: "version.approved",
    subject: `flow:${flowId}@${version}`,
    detail: { hash: v.hash, comment },
  });
  return approved;
}

/** A reviewer turns a pending version down, with a reason the requester can act on. */
export async function rejectVersion(
  store: Store,
  flowId: string,
  version: number,
  actor: Actor,
  reason: string,
): Promise<FlowVersionRecord> {
  if (actor.role === "requester")
    throw new ApprovalRefused(
      "forbidden",
      `${actor.name} is a requester: rejecting needs the reviewer or admin role`,
    );
  const v = await store.getVersion(flowId, version);
  if (!v) throw new ApprovalRefused("not_found", `flow ${flowId} has no version ${version}`);
  if (v.status !== "pending")
    throw new ApprovalRefused("conflict", `version ${version} is already ${v.status}`);
  const at = new Date().toISOString();
  const rejected = await store.rejectVersion(flowId, version, { by: actor.name, at, reason });
  if (!rejected)
    throw new ApprovalRefused(
      "conflict",
      `version ${version} was approved or rejected by someone else meanwhile`,
    );
  await store.appendAudit({
    at,
    actor: actor.name,
    action: "version.rejected",
    subject: `flow:${flowId}@${version}`,
    detail: { reason },
  });
  return rejected;
}
