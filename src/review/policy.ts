import { type CommandPolicy, createCommandPolicy } from "../capabilities/command-policy";
import type { Plan } from "../plan/schema";

/**
 * What a plan would do to machines, as the approval policy needs it: whether every step only
 * reads, and which commands the deny list refuses outright (such a plan is never stored).
 * Shell commands and PowerShell scripts are classified by the command policy (built-in rules,
 * or the admin's policy file when one is passed).
 */

export type PlanRisk = {
  readOnly: boolean;
  mutating: string[];
  denied: { stepId: string; reason: string }[];
};

let builtIn: CommandPolicy | undefined;

export function assessPlan(plan: Plan, policy?: CommandPolicy): PlanRisk {
  const p = policy ?? (builtIn ??= createCommandPolicy());
  const mutating: string[] = [];
  const denied: PlanRisk["denied"] = [];
  for (const s of plan.steps) {
    const a = s.action;
    const v =
      a.kind === "ssh"
        ? p.classify(a.command)
        : a.kind === "powershell"
          ? p.classifyPowerShell(a.script)
          : null;
    if (v?.class === "denied") denied.push({ stepId: s.id, reason: v.reason });
    else if (v?.class === "mutating") mutating.push(`${s.id}: ${v.reason}`);
    else if (a.kind === "http" && a.method !== "GET" && a.method !== "HEAD")
      mutating.push(`${s.id}: HTTP ${a.method}`);
  }
  return { readOnly: mutating.length === 0, mutating, denied };
}

export type ApprovalPolicy = { autoApproveReadOnly: boolean };

/** A version starts approved only when it only reads, compiled cleanly, and the policy allows it. */
export function autoApproves(policy: ApprovalPolicy, risk: PlanRisk, hasErrors: boolean): boolean {
  return policy.autoApproveReadOnly && risk.readOnly && !hasErrors;
}
