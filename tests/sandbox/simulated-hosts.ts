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
    if (c.name === "sleep") return null;
    const reply = script(c.args.host, c.args.command, ctx);
    if (reply instanceof Error) throw reply;
    return {
      exitCode: reply.exitCode,
      signal: null,
      stdout: reply.stdout ?? "",
      stderr: reply.stderr ?? "",
      truncated: false,
    };
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
