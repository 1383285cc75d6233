import { readFileSync } from "node:fs";
import { Plan } from "../../src/plan/schema";
import type { CallContext, CapabilityCall, FlowEvent, RunFlowOptions } from "../../src/sandbox/runner";

export type Reply = { exitCode: number | null; stdout?: string; stderr?: string } | Error;
export type Script = (host: string, command: string, ctx: CallContext) => Reply;

/** An in-process stand-in for machines: deterministic replies, every call and event kept. */
export function simulatedHosts(script: Script) {
  const calls: { call: CapabilityCall; ctx: CallContext }[] = [];
  const events: FlowEvent[] = [];
  const call: RunFlowOptions["call"] = async (c, ctx) => {
    calls.push({ call: c, ctx });
    await Promise.resolve();
    switch (c.name) {
      case "ssh.exec":
      case "powershell.run": {
        const text = c.name === "ssh.exec" ? c.args.command : c.args.script;
        const reply = script(c.args.host, text, ctx);
        if (reply instanceof Error) throw reply;
        const stdout = reply.stdout ?? "";
        const exec = {
          exitCode: reply.exitCode,
          signal: null,
          stdout,
          stderr: reply.stderr ?? "",
          truncated: false,
        };
        return c.name === "ssh.exec" ? exec : { ...exec, data: parseJson(stdout) };
      }
      case "http.request":
        return {
          status: 200,
          headers: [["content-type", "text/plain"]],
          body: `${c.args.method} ${c.args.url}`,
          truncated: false,
          durationMs: 1,
        };
      case "net.tcp":
        return { ok: true, latencyMs: 1, error: null };
      case "net.dns":
        return { addresses: ["192.0.2.1"] };
      case "net.ping":
        return { ok: true, latencyMs: 1, method: "icmp", error: null };
      default:
        return null;
    }
  };
  const execs = () =>
    calls.flatMap(({ call: c }) => (c.name === "ssh.exec" ? [`${c.args.host}: ${c.args.command}`] : []));
  const finished = (stepId: string) =>
    Object.fromEntries(
      events
        .filter(
          (e): e is Extract<FlowEvent, { type: "step.finished" }> =>
            e.type === "step.finished" && e.stepId === stepId,
        )
        .map((e) => [e.host ?? "", e.status]),
    );
  return { calls, events, call, onEvent: (e: FlowEvent) => events.push(e), execs, finished };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function capabilityError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function fixturePlan(name: string): Plan {
  return Plan.parse(
    JSON.parse(readFileSync(new URL(`../../fixtures/plans/${name}.json`, import.meta.url), "utf8")),
  );
}

/** Every host step of a plan on the same hosts. */
export function sameTargets(plan: Plan, hosts: string[]): Record<string, string[]> {
  return Object.fromEntries(plan.steps.filter((s) => s.targets?.length).map((s) => [s.id, hosts]));
}

export const LIMITS = { memoryMb: 64, timeoutMs: 5_000 };
