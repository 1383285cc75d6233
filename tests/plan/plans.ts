import type { Plan, Step } from "../../src/plan/schema";

/** A step with every optional field unset; override what a test is about. */
export function step(fields: Partial<Step> & Pick<Step, "id">): Step {
  return {
    name: fields.id,
    description: null,
    action: { kind: "ssh", command: "true" },
    targets: ["web1"],
    dependsOn: [],
    when: null,
    until: null,
    retry: null,
    timeoutMs: null,
    concurrency: null,
    onError: null,
    trigger: "normal",
    ...fields,
  };
}

export function plan(steps: Step[], extra: Partial<Plan> = {}): Plan {
  return { title: "test plan", intent: "a test", params: [], steps, ...extra };
}

/** The key scenario, as every planner should make it. */
export function nginxRestartPlan(
  intent = "check nginx on web1 and web2 and restart it where it is down",
): Plan {
  return plan(
    [
      step({
        id: "check_nginx",
        name: "Check nginx",
        action: { kind: "ssh", command: "systemctl is-active nginx" },
        targets: ["web1", "web2"],
      }),
      step({
        id: "restart_nginx",
        name: "Restart nginx where it is down",
        action: { kind: "ssh", command: "sudo systemctl restart nginx" },
        targets: ["web1", "web2"],
        dependsOn: ["check_nginx"],
        when: { step: "check_nginx", field: "exitCode", op: "ne", value: 0, perHost: true },
      }),
    ],
    { intent },
  );
}
