import { classifyCommand } from "../capabilities/command-policy";
import type { Plan } from "../plan/schema";

/**
 * What a plan would do to machines, as the approval policy needs it: whether every step only
 * reads, and which commands the deny list refuses outright (such a plan is never stored).
 */

export type PlanRisk = {
  readOnly: boolean;
  mutating: string[];
  denied: { stepId: string; reason: string }[];
};

export function assessPlan(plan: Plan): PlanRisk {
  const mutating: string[] = [];
  const denied: PlanRisk["denied"] = [];
  for (const s of plan.steps) {
    const a = s.action;
    if (a.kind === "ssh") {
      const v = classifyCommand(a.command);
      if (v.class === "denied") denied.push({ stepId: s.id, reason: v.reason });
      else if (v.class === "mutating") mutating.push(`${s.id}: ${v.reason}`);
    } else if (a.kind === "powershell") {
      // PowerShell scripts are not classified yet: treat them as changing the machine.
      mutating.push(`${s.id}: PowerShell script`);
    } else if (a.kind === "http" && a.method !== "GET" && a.method !== "HEAD") {
      mutating.push(`${s.id}: HTTP ${a.method}`);
    }
  }
  return { readOnly: mutating.length === 0, mutating, denied };
}

export type ApprovalPolicy = { autoApproveReadOnly: boolean };

/** A version starts approved only when it only reads, compiled cleanly, and the policy allows it. */
export function autoApproves(policy: ApprovalPolicy, risk: PlanRisk, hasErrors: boolean): boolean {
  return policy.autoApproveReadOnly && risk.readOnly && !hasErrors;
}
