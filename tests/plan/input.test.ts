import { describe, expect, it } from "vitest";
import { PlanInputError, parsePlanInput } from "../../src/plan/input";
import { nginxRestartPlan } from "./plans";

/** The error a body produces; fails the test if it parses. */
function rejection(body: unknown): PlanInputError {
  try {
    parsePlanInput(body);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanInputError);
    return error as PlanInputError;
  }
  throw new Error("expected a PlanInputError");
}

const legacyWorkflow = {
  name: "Nginx health",
  description: "Check nginx, look at the port, restart",
  steps: [
    {
      id: "step_1",
      name: "Check nginx",
      type: "ssh",
      host: "web1",
      command: "systemctl status nginx",
      timeout: 300,
    },
    {
      id: "Step-2",
      name: "Port 443",
      type: "network_analysis",
      host: "web1",
      target: "web2:443",
      analysis_type: "port_scan_tcp",
    },
    {
      id: "step_3",
      name: "Windows service",
      type: "powershell",
      host: "win1",
      script: "Get-Service W3SVC",
      credentials: { username: "Administrator", password: "hunter2" },
    },
  ],
};

describe("parsePlanInput: plans", () => {
  it("accepts a Plan as it is", () => {
    const p = nginxRestartPlan();
    expect(parsePlanInput(p)).toEqual({ plan: p, origin: "plan", warnings: [] });
  });

  it("names every field at fault in the issues and the message", () => {
    const p = nginxRestartPlan() as unknown as { steps: Record<string, unknown>[] };
    delete p.steps[0]!.name;
    p.steps[1]!.timeoutMs = "soon";
    const error = rejection(p);
    expect(error.issues).toEqual([
      { path: "steps[0].name", message: "required (string)" },
      { path: "steps[1].timeoutMs", message: "Invalid input: expected number, received string" },
    ]);
    expect(error.message).toBe(
      "invalid plan: steps[0].name: required (string); steps[1].timeoutMs: Invalid input: expected number, received string",
    );
    expect(error.code).toBe("invalid_plan");
  });

  it("checks references once the shape is right", () => {
    const p = nginxRestartPlan();
    p.steps[1]!.dependsOn = ["nope"];
    expect(rejection(p).issues).toContainEqual({
      path: "steps[1].dependsOn[0]",
      message: 'unknown step "nope"',
    });
  });
});

describe("parsePlanInput: the legacy workflow format", () => {
  const fixed = {
    ...legacyWorkflow,
    steps: legacyWorkflow.steps.map((s, i) => (i === 1 ? { ...s, analysis_type: "port" } : s)),
  };

  it("imports steps to run one after another", () => {
    const { plan, origin } = parsePlanInput(fixed);
    expect(origin).toBe("legacy");
    expect(plan.title).toBe("Nginx health");
    expect(plan.intent).toBe("Check nginx, look at the port, restart");
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ["step_1", []],
      ["step_2", ["step_1"]],
      ["step_3", ["step_2"]],
    ]);
  });

  it("maps each step type to an action, timeouts from seconds to ms", () => {
    const { plan } = parsePlanInput(fixed);
    expect(plan.steps[0]).toMatchObject({
      action: { kind: "ssh", command: "systemctl status nginx" },
      targets: ["web1"],
      timeoutMs: 300_000,
    });
    expect(plan.steps[1]).toMatchObject({
      action: { kind: "net", check: "tcp", port: 443 },
      targets: ["web2"],
    });
    expect(plan.steps[2]).toMatchObject({ action: { kind: "powershell", script: "Get-Service W3SVC" } });
  });

  it("never copies credentials into the plan, and says it dropped them", () => {
    const { plan, warnings } = parsePlanInput(fixed);
    expect(JSON.stringify(plan)).not.toMatch(/hunter2|Administrator|credentials/);
    expect(warnings).toContainEqual(
      expect.stringMatching(/^steps\[2\]\.credentials: dropped; secrets never enter plans/),
    );
  });

  it("warns when it renames an id to fit lower_snake_case", () => {
    expect(parsePlanInput(fixed).warnings).toContain(
      'steps[1].id: "Step-2" imported as "step_2" (ids are lower_snake_case and unique)',
    );
  });

  it("makes ids unique and fills in missing ids and names", () => {
    const { plan } = parsePlanInput({
      steps: [
        { id: "check", type: "ssh", host: "web1", command: "uptime" },
        { id: "check", type: "ssh", host: "web1", command: "uptime" },
        { type: "ssh", host: "web1", command: "uptime" },
        { id: 7, type: "ssh", host: "web1", command: "uptime" },
      ],
    });
    expect(plan.steps.map((s) => [s.id, s.name])).toEqual([
      ["check", "check"],
      ["check_2", "check_2"],
      ["step_3", "step_3"],
      ["step_7", "step_7"],
    ]);
  });

  it("is lenient about network analysis types", () => {
    const check = (analysis_type: unknown, extra: object = {}) =>
      parsePlanInput({
        steps: [{ id: "n", type: "network_analysis", host: "web1", analysis_type, ...extra }],
      }).plan.steps[0]?.action;
    expect(check("ICMP")).toEqual({ kind: "net", check: "ping", port: null });
    expect(check("dns-lookup")).toEqual({ kind: "net", check: "dns", port: null });
    expect(check("Port Check", { port: "8080" })).toEqual({ kind: "net", check: "tcp", port: 8080 });
    expect(check(undefined, { port: 22 })).toEqual({ kind: "net", check: "tcp", port: 22 });
    expect(check(null)).toEqual({ kind: "net", check: "ping", port: null });
  });

  it("accepts the envelope the old AI Brain submitted", () => {
    const { plan, origin } = parsePlanInput({ workflow_definition: fixed });
    expect(origin).toBe("legacy");
    expect(plan.steps).toHaveLength(3);
  });

  it("rejects what it cannot map, naming the legacy field", () => {
    expect(rejection(legacyWorkflow).issues).toEqual([
      {
        path: "steps[1].analysis_type",
        message: expect.stringMatching(/^"port_scan_tcp" is not supported; use one of ping, icmp/),
      },
    ]);
    expect(rejection({ steps: [{ id: "a", type: "ssh", host: "web1" }] }).issues).toEqual([
      { path: "steps[0].command", message: "required for an ssh step" },
    ]);
    expect(rejection({ steps: [{ id: "a", type: "telnet", host: "web1" }] }).issues).toEqual([
      {
        path: "steps[0].type",
        message: 'expected one of "ssh", "powershell", "network_analysis", got "telnet"',
      },
    ]);
    expect(
      rejection({ steps: [{ id: "a", type: "network_analysis", host: "web1", analysis_type: "tcp" }] })
        .issues,
    ).toEqual([
      { path: "steps[0].port", message: 'a tcp check needs a port ("port": 443, or "target": "name:443")' },
    ]);
  });

  it("maps plan-level problems back to legacy fields", () => {
    const error = rejection({ steps: [{ id: "a", type: "ssh", host: "web1", command: "echo {{target}}" }] });
    expect(error.issues).toEqual([{ path: "steps[0].command", message: "unknown placeholder {{target}}" }]);
  });

  it("never cuts a command, but cuts an over-long name with a warning", () => {
    const long = "x".repeat(4001);
    expect(rejection({ steps: [{ id: "a", type: "ssh", host: "web1", command: long }] }).issues[0]).toEqual({
      path: "steps[0].command",
      message: "longer than 4000 characters (4001); commands are never cut",
    });
    const { plan, warnings } = parsePlanInput({
      name: long,
      steps: [{ id: "a", type: "ssh", host: "web1", command: "uptime" }],
    });
    expect(plan.title).toHaveLength(200);
    expect(warnings).toContain("name: cut to 200 characters");
  });

  it("rejects host values that are not host names", () => {
    expect(
      rejection({ steps: [{ id: "a", type: "ssh", host: "web1; rm -rf /", command: "uptime" }] }).issues,
    ).toEqual([
      { path: "steps[0].host", message: "expected inventory host names (letters, digits, . _ - : [ ])" },
    ]);
  });
});

describe("parsePlanInput: hostile and malformed bodies", () => {
  const bodies: [string, unknown][] = [
    ["null", null],
    ["a number", 42],
    ["a string", "steps"],
    ["an array", [{ steps: [] }]],
    ["an empty object", {}],
    ["steps that are not an array", { steps: "ssh" }],
    ["an empty steps array", { title: "t", intent: "i", params: [], steps: [] }],
    ["steps that are null", { steps: [null, 1, "x", []] }],
    [
      "a legacy step of the wrong types",
      { steps: [{ id: {}, type: "ssh", host: 5, command: ["ls"], timeout: "soon" }] },
    ],
    ["a negative timeout", { steps: [{ id: "a", type: "ssh", host: "web1", command: "ls", timeout: -1 }] }],
    ["a huge string", { steps: [{ id: "a", type: "ssh", host: "web1", command: "y".repeat(5_000_000) }] }],
    ["a huge host", { steps: [{ id: "a", type: "ssh", host: "h".repeat(1_000_000), command: "ls" }] }],
    [
      "a million steps",
      { steps: new Array(1_000_000).fill({ id: "a", type: "ssh", host: "web1", command: "ls" }) },
    ],
    [
      "a __proto__ key in a plan",
      JSON.parse(`{"title":"t","intent":"i","params":[],"steps":[],"__proto__":{"polluted":true}}`),
    ],
    [
      "a __proto__ key in a step",
      JSON.parse(`{"steps":[{"__proto__":{"type":"ssh"},"id":"a","host":"web1"}]}`),
    ],
    [
      "a constructor key",
      JSON.parse(`{"steps":[{"type":"ssh","id":"constructor","host":"web1","constructor":{"prototype":1}}]}`),
    ],
    ["deeply nested junk", { steps: [{ type: "ssh", host: "web1", command: nest(5000) }] }],
    ["a plan with junk values", { title: 1, intent: null, params: {}, steps: [{ action: "rm -rf /" }] }],
  ];

  it.each(bodies)("turns %s into a PlanInputError", (_, body) => {
    const error = rejection(body);
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(typeof issue.path).toBe("string");
      expect(issue.message.length).toBeLessThan(500);
    }
    expect(error.message.length).toBeLessThan(2000);
  });

  it("keeps warnings to a readable number", () => {
    const step = { id: "a", type: "ssh", host: "web1", command: "uptime" } as Record<string, unknown>;
    for (let i = 0; i < 100_000; i++) step[`junk${i}`] = i;
    const { warnings } = parsePlanInput({ steps: [step] });
    expect(warnings).toHaveLength(51);
    expect(warnings.at(-1)).toBe("… and more warnings, not listed");
  });

  it("leaves Object.prototype alone", () => {
    rejection(JSON.parse(`{"__proto__":{"polluted":true},"steps":[]}`));
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("accepts a legacy step whose __proto__ key is junk, without reading it", () => {
    const body = JSON.parse(
      `{"steps":[{"__proto__":{"command":"rm -rf /"},"id":"a","type":"ssh","host":"web1","command":"uptime"}]}`,
    );
    const { plan, warnings } = parsePlanInput(body);
    expect(plan.steps[0]?.action).toEqual({ kind: "ssh", command: "uptime" });
    expect(warnings).toContain("steps[0].__proto__: ignored (not part of the legacy step format)");
  });
});

function nest(depth: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}
