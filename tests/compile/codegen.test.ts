import { describe, expect, it } from "vitest";
import { createCompiler } from "../../src/compile";
import { FlowCodegen } from "../../src/compile/codegen";
import { makePlan, makeStep } from "../helpers/plans";
import { fixturePlan, sameTargets } from "../sandbox/simulated-hosts";

const compiler = createCompiler();

describe("codegen", () => {
  it("turns the check-and-restart plan into the reviewed source", async () => {
    const plan = fixturePlan("nginx-check-restart");
    const out = await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]));
    expect(out.diagnostics).toEqual([]);
    expect(out.bundle).toBeTruthy();
    await expect(out.source).toMatchFileSnapshot("__snapshots__/nginx-check-restart.ts.snap");
  });

  it("covers params, retries, until, compensation and continue", async () => {
    const plan = fixturePlan("deploy-with-params-retry");
    const out = await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]));
    expect(out.diagnostics).toEqual([]);
    await expect(out.source).toMatchFileSnapshot("__snapshots__/deploy-with-params-retry.ts.snap");
  });

  it.each([
    ["http-post-poll", ["web1"]],
    ["net-dns-ping", ["db1"]],
    ["powershell-services", ["win1"]],
    ["notify-on-failure", ["web1", "web2"]],
    ["pass-per-host", ["web1", "web2"]],
  ])("pins the source of %s (http, net, powershell, notify, values passed on)", async (name, hosts) => {
    const plan = fixturePlan(name);
    const out = await compiler.compilePlan(plan, sameTargets(plan, hosts));
    expect(out.diagnostics).toEqual([]);
    await expect(out.source).toMatchFileSnapshot(`__snapshots__/${name}.ts.snap`);
  });

  it("gives byte-identical output for the same input, across codegen instances", () => {
    const plan = fixturePlan("deploy-with-params-retry");
    const targets = sameTargets(plan, ["web1", "web2"]);
    const a = new FlowCodegen().generate(plan, targets);
    const b = new FlowCodegen().generate(plan, targets);
    expect(b).toBe(a);
    expect(new FlowCodegen().generate(plan, targets)).toBe(a);
  });

  it("bakes the resolved hosts into the source", async () => {
    const plan = fixturePlan("disk-report-linear");
    const out = await compiler.compilePlan(plan, { disk_usage: ["db1", "db2"], uptime: ["db2"] });
    expect(out.source).toContain('const hosts = ["db1", "db2"];');
    expect(out.source).toContain('const hosts = ["db2"];');
    expect(out.diagnostics).toEqual([]);
  });

  it("keeps plan text out of code: comments cannot be ended, strings cannot be closed", async () => {
    const plan = makePlan(
      [
        makeStep("say", {
          name: "say\u2028globalThis.x = 1",
          action: { kind: "log", message: 'quote " backtick ` ${globalThis} \\' },
          targets: null,
        }),
        makeStep("run", { action: { kind: "ssh", command: "echo `id` ${HOME} \\n 'q' \"$PATH\"" } }),
      ],
      { title: "t\nprocess.exit(1)", intent: "i\r\nrequire('fs')" },
    );
    const out = await compiler.compilePlan(plan, { run: ["web1"] });
    expect(out.diagnostics).toEqual([]);
    expect(out.source).toContain("// process.exit(1)");
    expect(out.source).toContain("// require('fs')");
    expect(out.source).toContain("sh`echo \\`id\\` \\${HOME} \\\\n 'q' \"$PATH\"`");
  });

  it("names steps whose ids are reserved words or SDK names", async () => {
    const ids = ["delete", "step", "results", "hosts", "check", "check_results", "sh"];
    const plan = makePlan(ids.map((id, i) => makeStep(id, { dependsOn: i ? [ids[i - 1]!] : [] })));
    const out = await compiler.compilePlan(plan, Object.fromEntries(ids.map((id) => [id, ["web1"]])));
    expect(out.diagnostics).toEqual([]);
    expect(out.bundle).toBeTruthy();
  });

  it("reports what the flow engine cannot express as codegen diagnostics", async () => {
    const plan = makePlan([
      makeStep("wait", {
        targets: null,
        action: { kind: "log", message: "waiting" },
        until: { field: "exitCode", op: "eq", value: 0, intervalMs: 100, timeoutMs: 1000 },
      }),
      makeStep("many", { targets: ["web1", "web2"] }),
      makeStep("use", {
        dependsOn: ["many"],
        targets: null,
        action: { kind: "log", message: "got {{steps.many.stdout}}" },
      }),
      makeStep("odd", {
        dependsOn: ["many"],
        when: { step: "many", field: "status", op: "gt", value: 1, perHost: false },
      }),
    ]);
    const out = await compiler.compilePlan(plan, { many: ["web1", "web2"], odd: ["web1"] });
    expect(out.bundle).toBeNull();
    expect(out.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["codegen", 'step "wait": until needs a step that runs on hosts, not a log step'],
      [
        "codegen",
        'step "use": {{steps.many.stdout}} is ambiguous: "many" ran on 2 hosts and this step runs without a host',
      ],
      ["codegen", 'step "odd": a status cannot be compared with gt'],
    ]);
  });

  it("refuses a host step whose selectors matched no host", async () => {
    const out = await compiler.compilePlan(makePlan([makeStep("a")]), { a: [] });
    expect(out.diagnostics[0]?.message).toBe('step "a": no hosts matched this step\'s targets');
  });

  it("refuses a compensation handler that would wait for its own caller's dependents", async () => {
    const plan = makePlan([
      makeStep("deploy", { onError: { mode: "compensate", steps: ["undo"] } }),
      makeStep("after", { dependsOn: ["deploy"] }),
      makeStep("undo", { trigger: "on_error", dependsOn: ["after"] }),
    ]);
    const out = await compiler.compilePlan(plan, { deploy: ["web1"], after: ["web1"], undo: ["web1"] });
    expect(out.diagnostics.map((d) => d.message)).toEqual([
      'step "deploy": handler "undo" depends on "after", which can only run after this step',
    ]);
  });
});
