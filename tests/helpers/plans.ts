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

/** The key scenario, as every planner should make it: check on each host, restart only where the check failed. */
export function nginxRestartPlan(
  intent = "check nginx on web1 and web2 and restart it where it is down",
  hosts = ["web1", "web2"],
): Plan {
  return makePlan(
    [
      makeStep("check_nginx", {
        name: "Check nginx",
        action: { kind: "ssh", command: "systemctl is-active nginx" },
        targets: hosts,
      }),
      makeStep("restart_nginx", {
        name: "Restart nginx where it is down",
        action: { kind: "ssh", command: "sudo systemctl restart nginx" },
        targets: hosts,
        dependsOn: ["check_nginx"],
        when: { step: "check_nginx", field: "exitCode", op: "ne", value: 0, perHost: true },
      }),
    ],
    { intent },
  );
}

export const checkAndRestartPlan = (hosts = ["web1", "web2"]) => nginxRestartPlan(undefined, hosts);
