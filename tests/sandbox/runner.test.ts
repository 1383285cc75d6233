import { describe, expect, it } from "vitest";
import { createCompiler } from "../../src/compile";
import { bundleFlow } from "../../src/compile/bundle";
import { runFlow, sandboxAvailable, sandboxStatus } from "../../src/sandbox/runner";
import { capabilityError, fixturePlan, LIMITS, sameTargets, simulatedHosts } from "./simulated-hosts";

const compiler = createCompiler();

/** Compiles through the full pipeline (type check + policy); fails the test on diagnostics. */
async function compiled(source: string) {
  const out = await compiler.compileSource(source);
  expect(out.diagnostics).toEqual([]);
  return { bundle: out.bundle!, sourceMap: out.sourceMap };
}

/** Bundles without the source policy: what hostile code that slipped past review would run. */
async function unchecked(source: string) {
  const { bundle, diagnostics } = await bundleFlow(source);
  expect(diagnostics).toEqual([]);
  return { bundle: bundle!.code, sourceMap: bundle!.map };
}

const flow = (body: string) =>
  [
    'import { defineFlow, fail, log, sh, sleep, ssh, step } from "intentflow:sdk";',
    'export default defineFlow({ name: "t" }, async () => {',
    body,
    "});",
  ].join("\n");

describe("runFlow: the check-and-restart scenario", () => {
  it("restarts nginx only where it is down, and the run succeeds", async () => {
    const plan = fixturePlan("nginx-check-restart");
    const out = await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]));
    const hosts = simulatedHosts((host, command) =>
      command === "systemctl is-active nginx"
        ? host === "web2"
          ? { exitCode: 3, stdout: "inactive\n" }
          : { exitCode: 0, stdout: "active\n" }
        : { exitCode: 0 },
    );
    const result = await runFlow({
      bundle: out.bundle!,
      sourceMap: out.sourceMap,
      params: {},
      allowedHosts: ["web1", "web2"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(hosts.execs().sort()).toEqual([
      "web1: systemctl is-active nginx",
      "web2: sudo systemctl restart nginx",
      "web2: systemctl is-active nginx",
    ]);
    expect(hosts.finished("check_nginx")).toEqual({ web1: "succeeded", web2: "failed" });
    expect(hosts.finished("restart_nginx")).toEqual({ web1: "skipped", web2: "succeeded" });
    const restart = hosts.calls.find(
      (c) => c.call.name === "ssh.exec" && c.call.args.command.includes("restart"),
    );
    expect(restart?.ctx).toMatchObject({
      key: "restart_nginx|web2|1|1",
      stepId: "restart_nginx",
      host: "web2",
      attempt: 1,
    });
    expect(restart?.call).toEqual({
      name: "ssh.exec",
      args: { host: "web2", command: "sudo systemctl restart nginx", timeoutMs: 30000 },
    });
  });

  it("fails the run when the restart itself fails", async () => {
    const plan = fixturePlan("nginx-check-restart");
    const out = await compiler.compilePlan(plan, sameTargets(plan, ["web1", "web2"]));
    const hosts = simulatedHosts((host) => ({ exitCode: host === "web2" ? 1 : 0 }));
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1", "web2"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/^step "restart_nginx" failed on 1 of 2 hosts \(web2: exit code 1\)/);
  });
});

describe("runFlow: plan features", () => {
  const deploy = fixturePlan("deploy-with-params-retry");
  const targets = sameTargets(deploy, ["web1", "web2"]);

  it("retries with backoff, passes data between steps per host and quotes parameters", async () => {
    const out = await compiler.compilePlan(deploy, targets);
    const downloads = new Map<string, number>();
    const hosts = simulatedHosts((host, command) => {
      if (command.startsWith("cat ")) return { exitCode: 0, stdout: `1.0.${host.slice(-1)}\n` };
      if (command.startsWith("curl -fsSL")) {
        const n = (downloads.get(host) ?? 0) + 1;
        downloads.set(host, n);
        return { exitCode: host === "web1" && n < 3 ? 22 : 0 };
      }
      return { exitCode: 0 };
    });
    const result = await runFlow({
      bundle: out.bundle!,
      params: { version: "2.0'; rm -rf /" },
      allowedHosts: ["web1", "web2"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(hosts.execs()).toContain(
      "web1: sudo /opt/app/install.sh /tmp/app.tgz '2.0'\\''; rm -rf /' --previous '1.0.1' --host 'web1'",
    );
    const sleeps = hosts.calls.filter((c) => c.call.name === "sleep").map((c) => [c.call.args, c.ctx.key]);
    expect(sleeps).toEqual([
      [{ ms: 500 }, "download|web1|1|2"],
      [{ ms: 1000 }, "download|web1|2|2"],
    ]);
    const finishedDownload = hosts.events.find(
      (e) => e.type === "step.finished" && e.stepId === "download" && e.host === "web1",
    );
    expect(finishedDownload).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(hosts.events).toContainEqual({
      type: "log",
      level: "info",
      message: "deployed 2.0'; rm -rf / to web1, web2",
      stepId: "announce",
      host: null,
    });
  });

  it("compensates a failed step on the hosts where it failed, then fails the run", async () => {
    const out = await compiler.compilePlan(deploy, targets);
    const hosts = simulatedHosts((host, command) =>
      command.startsWith("cat ")
        ? { exitCode: 0, stdout: "1.0.0\n" }
        : command.includes("/tmp/app.tgz '1.4.2'") && host === "web2"
          ? { exitCode: 5, stderr: "disk full" }
          : { exitCode: 0 },
    );
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1", "web2"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/^step "install" failed on 1 of 2 hosts \(web2: exit code 5\)/);
    expect(hosts.finished("rollback")).toEqual({ web1: "skipped", web2: "succeeded" });
    expect(hosts.execs()).toContain("web2: sudo /opt/app/install.sh --rollback '1.0.0'");
    expect(hosts.finished("wait_healthy")).toEqual({});
  });

  it("polls until the condition holds, and goes on (onError continue) when it never does", async () => {
    const out = await compiler.compilePlan(deploy, targets);
    let checks = 0;
    const hosts = simulatedHosts((host, command) => {
      if (!command.startsWith("curl -fs http")) return { exitCode: 0, stdout: "1\n" };
      if (host === "web2") return { exitCode: 7 };
      checks += 1;
      return { exitCode: checks < 3 ? 7 : 0 };
    });
    const result = await runFlow({
      bundle: out.bundle!,
      params: {},
      allowedHosts: ["web1", "web2"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(hosts.finished("wait_healthy")).toEqual({ web1: "succeeded", web2: "timed_out" });
    const web2Polls = hosts.execs().filter((e) => e.startsWith("web2: curl -fs http"));
    expect(web2Polls).toHaveLength(6);
    const web2 = hosts.events.find(
      (e) => e.type === "step.finished" && e.stepId === "wait_healthy" && e.host === "web2",
    );
    expect(web2).toMatchObject({
      error: "the condition did not hold within 5000 ms (6 tries); last result: exit code 7",
    });
  });

  it("uses the same journal keys when the same run is replayed", async () => {
    const out = await compiler.compilePlan(deploy, targets);
    const keysOf = async () => {
      const hosts = simulatedHosts((host, command) => ({
        exitCode: command.startsWith("curl -fsSL") && host === "web1" ? 1 : 0,
      }));
      await runFlow({
        bundle: out.bundle!,
        params: {},
        allowedHosts: ["web1", "web2"],
        call: hosts.call,
        onEvent: hosts.onEvent,
        limits: LIMITS,
      });
      return hosts.calls.map((c) => `${c.ctx.key} ${JSON.stringify(c.call)}`).sort();
    };
    const first = await keysOf();
    expect(await keysOf()).toEqual(first);
    expect(new Set(first.map((k) => k.split(" ")[0])).size).toBe(first.length);
  });
});

describe("runFlow: the bridge", () => {
  it("refuses hosts outside the run's allowed set; the step records the refusal", async () => {
    const { bundle } = await compiled(
      flow('  await step("x", { host: "db9" }, () => ssh.exec("db9", "uptime"));'),
    );
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: ["web1"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(hosts.calls).toEqual([]);
    expect(result).toMatchObject({
      status: "failed",
      error: expect.stringContaining('host "db9" is not among the hosts this run may reach'),
    });
    expect(hosts.events.at(-1)).toMatchObject({
      type: "step.finished",
      stepId: "x",
      host: "db9",
      status: "failed",
      attempts: 1,
    });
  });

  it("turns capability errors into step failures with their status, and retries only retryable ones", async () => {
    const { bundle } = await compiled(
      flow(
        [
          "  const retry = { attempts: 3, backoffMs: 0 };",
          '  await step("slow", { host: "web1", retry }, () => ssh.exec("web1", "sleep 100")).catch(() => null);',
          '  await step("auth", { host: "web1", retry }, () => ssh.exec("web1", "id")).catch(() => null);',
        ].join("\n"),
      ),
    );
    const hosts = simulatedHosts((_, command) =>
      command === "id"
        ? capabilityError("auth_failed", "bad key")
        : capabilityError("timeout", "took too long"),
    );
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: ["web1"],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result.status).toBe("succeeded");
    expect(hosts.events.filter((e) => e.type === "step.finished")).toEqual([
      expect.objectContaining({ stepId: "slow", status: "timed_out", attempts: 3, error: "took too long" }),
      expect.objectContaining({ stepId: "auth", status: "failed", attempts: 1, error: "bad key" }),
    ]);
  });

  it("validates arguments: a step cannot name an impossible identity", async () => {
    const { bundle } = await compiled(flow('  await step("a|b", {}, () => log("x"));'));
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toMatchObject({
      status: "failed",
      error: expect.stringContaining("TypeError: step: id must be"),
    });
  });

  it("checks the run's parameters against the flow's declaration", async () => {
    const { bundle } = await compiled(
      [
        'import { defineFlow, log } from "intentflow:sdk";',
        'export default defineFlow({ name: "p", params: { n: "number", who: { type: "string", default: "me" } } }, async ({ params }) => {',
        "  await log(`${params.n} ${params.who}`);",
        "});",
      ].join("\n"),
    );
    const run = async (params: Record<string, unknown>) => {
      const hosts = simulatedHosts(() => ({ exitCode: 0 }));
      const result = await runFlow({
        bundle,
        params,
        allowedHosts: [],
        call: hosts.call,
        onEvent: hosts.onEvent,
        limits: LIMITS,
      });
      return { result, logs: hosts.events.flatMap((e) => (e.type === "log" ? [e.message] : [])) };
    };
    expect(await run({ n: 3 })).toEqual({ result: { status: "succeeded", error: null }, logs: ["3 me"] });
    expect((await run({})).result.error).toContain('missing parameter "n"');
    expect((await run({ n: "3" })).result.error).toContain('parameter "n" must be a number');
    expect((await run({ n: 1, extra: true })).result.error).toContain("unknown parameter(s): extra");
  });
});

describe("runFlow: isolation and limits", () => {
  it("ends a flow that loops forever as timed_out, also after an await", async () => {
    for (const body of ["  while (true) {}", '  await log("x");\n  for (;;) {}']) {
      const { bundle } = await compiled(flow(body));
      const hosts = simulatedHosts(() => ({ exitCode: 0 }));
      const started = performance.now();
      const result = await runFlow({
        bundle,
        params: {},
        allowedHosts: [],
        call: hosts.call,
        onEvent: hosts.onEvent,
        limits: { memoryMb: 64, timeoutMs: 300 },
      });
      expect(result).toEqual({
        status: "timed_out",
        error: "the flow ran longer than 300 ms",
        limit: "timeout",
      });
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });

  it("ends a flow that waits longer than its deadline as timed_out and closes its open steps", async () => {
    const { bundle } = await compiled(flow('  await step("wait", {}, () => sleep(60_000));'));
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    let callSignal: AbortSignal | null = null;
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: (_call, ctx) => {
        callSignal = ctx.signal;
        return new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      },
      onEvent: hosts.onEvent,
      limits: { memoryMb: 64, timeoutMs: 200 },
    });
    expect(result.status).toBe("timed_out");
    expect(callSignal!.aborted).toBe(true);
    expect(hosts.events.at(-1)).toMatchObject({
      type: "step.finished",
      stepId: "wait",
      status: "timed_out",
      attempts: 1,
    });
  });

  it("stops a memory bomb with memory_limit, and the process goes on running flows", async () => {
    const { bundle } = await compiled(
      flow('  const hog: string[] = [];\n  for (let i = 0; ; i++) hog.push("x".repeat(100_000) + i);'),
    );
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: { memoryMb: 16, timeoutMs: 10_000 },
    });
    expect(result).toEqual({
      status: "memory_limit",
      error: "the flow used more than 16 MB of memory",
      limit: "memory_limit",
    });

    const after = await compiled(flow('  await log("still here");'));
    const next = await runFlow({
      bundle: after.bundle,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(next).toEqual({ status: "succeeded", error: null });
  });

  it("gives hostile code no process, no require and no bridge, even through constructors", async () => {
    const { bundle } = await unchecked(
      flow(
        [
          "  const F = (async () => {}).constructor.constructor as (code: string) => () => string;",
          '  await log(F("return [typeof process, typeof require, typeof __intentflowSend, typeof __intentflowDeliver, typeof __intentflowStart, typeof setTimeout, typeof WebAssembly].join()")());',
          "  await log(F(\"try { return typeof this.constructor.constructor('return process')(); } catch (e) { return e.name + ': ' + e.message; }\")());",
        ].join("\n"),
      ),
    );
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toEqual({ status: "succeeded", error: null });
    expect(hosts.events.flatMap((e) => (e.type === "log" ? [e.message] : []))).toEqual([
      "undefined,undefined,undefined,undefined,undefined,undefined,undefined",
      "ReferenceError: process is not defined",
    ]);
  });

  it("makes clocks and randomness throw, so a replay takes the same path", async () => {
    for (const expression of [
      "Date.now()",
      "new Date()",
      "Math.random()",
      "new (new Date(0).constructor as DateConstructor)()",
    ]) {
      const { bundle } = await unchecked(flow(`  await log(String(${expression}));`));
      const hosts = simulatedHosts(() => ({ exitCode: 0 }));
      const result = await runFlow({
        bundle,
        params: {},
        allowedHosts: [],
        call: hosts.call,
        onEvent: hosts.onEvent,
        limits: LIMITS,
      });
      expect(result.status, expression).toBe("failed");
      expect(result.error).toContain("is not available in flows: a replayed run must take the same path");
    }
  });

  it("reports a runtime error with its TypeScript line", async () => {
    const source = flow(
      [
        '  await log("before");',
        '  const config = JSON.parse("null") as { port: number };',
        "  await log(String(config.port));",
      ].join("\n"),
    );
    const { bundle, sourceMap } = await compiled(source);
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      sourceMap,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(
      /^TypeError: Cannot read properties of null \(reading 'port'\) \(flow\.ts:5:\d+\)$/,
    );
  });

  it("reports fail() with the line that called it", async () => {
    const { bundle, sourceMap } = await compiled(flow('  await log("x");\n  fail("nothing to do");'));
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      sourceMap,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toEqual({ status: "failed", error: "nothing to do (flow.ts:4:3)" });
  });

  it("stops when cancelled", async () => {
    const { bundle } = await compiled(flow('  await step("wait", {}, () => sleep(60_000));'));
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const controller = new AbortController();
    const running = runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: (_, ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")))),
      onEvent: hosts.onEvent,
      limits: LIMITS,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect(await running).toEqual({ status: "cancelled", error: "the run was cancelled" });
    expect(hosts.events.at(-1)).toMatchObject({ stepId: "wait", status: "cancelled" });
  });

  it("rejects a bundle whose default export is not a flow", async () => {
    const { bundle } = await unchecked("export default { name: 'fake' };");
    const hosts = simulatedHosts(() => ({ exitCode: 0 }));
    const result = await runFlow({
      bundle,
      params: {},
      allowedHosts: [],
      call: hosts.call,
      onEvent: hosts.onEvent,
      limits: LIMITS,
    });
    expect(result).toMatchObject({
      status: "failed",
      error: expect.stringContaining("not a flow made with defineFlow()"),
    });
  });
});

describe("sandboxAvailable", () => {
  it("is true in a process started with --no-node-snapshot", () => {
    expect(sandboxStatus()).toEqual({ available: true, reason: null });
    expect(sandboxAvailable()).toBe(true);
  });
});
