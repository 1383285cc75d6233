import { Plan, type Step } from "../../src/plan/schema";

/** A valid step with every nullable field null; override what the test is about. */
export function makeStep(id: string, overrides: Partial<Step> = {}): Step {
  return {
    id,
    name: id.replace(/_/g, " "),
    description: null,
    action: { kind: "ssh", command: "uptime" },
    targets: ["web1"],
    dependsOn: [],
    when: null,
    until: null,
    retry: null,
    timeoutMs: null,
    concurrency: null,
    onError: null,
    trigger: "normal",
    ...overrides,
  };
}

/** Parses through the real schema, so a test plan is always a valid plan. */
export function makePlan(steps: Step[], extra: Partial<Plan> = {}): Plan {
  return Plan.parse({ title: "test plan", intent: "test intent", params: [], steps, ...extra });
}

/** check on each host, then restart only where the check failed. */
export function checkAndRestartPlan(hosts = ["web1", "web2"]): Plan {
  return makePlan([
    makeStep("check_nginx", {
      action: { kind: "ssh", command: "systemctl is-active nginx" },
      targets: hosts,
    }),
    makeStep("restart_nginx", {
      action: { kind: "ssh", command: "sudo systemctl restart nginx" },
      targets: hosts,
      dependsOn: ["check_nginx"],
      when: { step: "check_nginx", field: "exitCode", op: "ne", value: 0, perHost: true },
    }),
  ]);
}
