import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePlan, makeStep } from "../helpers/plans";
import { type Stack, startStack } from "../helpers/stack";

/**
 * Faults seen from a run, on both engines: a host that never finishes its handshake and a
 * command that hangs end as clear step errors, retried as the step says, within its timeout.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({}, [{ name: "web1" }, { name: "slow", slowConnectMs: 5000 }]);
});
afterAll(() => stack?.close());

async function run(engine: "queue" | "flow", step: ReturnType<typeof makeStep>) {
  const created = await stack.call("POST", `/v1/plans?engine=${engine}`, makePlan([step]));
  expect(created.status).toBe(201);
  const flow = created.body.flow;
  await stack.call("POST", `/v1/flows/${flow.id}/versions/1/approve`, {});
  const started = await stack.call("POST", `/v1/flows/${flow.id}/runs`, {});
  return stack.waitForRun(started.body.run.id, 15_000);
}

/**
 * How long the run itself took, from its start to its end as recorded: the plan's compile
 * and the approval before it are no part of what the step timeout bounds (and take seconds
 * on a loaded machine). The slow host answers only after 5 s, so under 4 s means bounded.
 */
function runMs(result: Awaited<ReturnType<typeof run>>): number {
  const { startedAt, finishedAt } = result.run as { startedAt: string | null; finishedAt: string | null };
  if (!startedAt || !finishedAt) throw new Error(`run has no start or end: ${JSON.stringify(result.run)}`);
  return Date.parse(finishedAt) - Date.parse(startedAt);
}

describe.each(["queue", "flow"] as const)("faults on the %s engine", (engine) => {
  it("retries a step whose host never answers, each attempt bounded by the step timeout", async () => {
    const result = await run(
      engine,
      makeStep("check", {
        targets: ["slow"],
        timeoutMs: 300,
        retry: { attempts: 2, backoffMs: 10, factor: 1 },
      }),
    );
    expect(runMs(result)).toBeLessThan(4000);
    expect(result.run.status).not.toBe("succeeded");
    const text = JSON.stringify(result);
    expect(text).toMatch(/timed out after 300 ms/);
    expect(result.steps[0]).toMatchObject({ host: "slow", status: "timed_out", attempts: 2 });
  });

  it("ends a hanging command at its timeout with a clear error", async () => {
    const result = await run(
      engine,
      makeStep("hang", { action: { kind: "ssh", command: "sleep 30" }, timeoutMs: 400 }),
    );
    expect(runMs(result)).toBeLessThan(4000);
    expect(result.run.status).not.toBe("succeeded");
    expect(JSON.stringify(result)).toMatch(/timed out after 400 ms/);
  });
});
