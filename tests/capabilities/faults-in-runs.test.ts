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

describe.each(["queue", "flow"] as const)("faults on the %s engine", (engine) => {
  it("retries a step whose host never answers, each attempt bounded by the step timeout", async () => {
    const started = Date.now();
    const result = await run(
      engine,
      makeStep("check", {
        targets: ["slow"],
        timeoutMs: 300,
        retry: { attempts: 2, backoffMs: 10, factor: 1 },
      }),
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.run.status).not.toBe("succeeded");
    const text = JSON.stringify(result);
    expect(text).toMatch(/timed out after 300 ms/);
    expect(result.steps[0]).toMatchObject({ host: "slow", status: "timed_out", attempts: 2 });
  });

  it("ends a hanging command at its timeout with a clear error", async () => {
    const started = Date.now();
    const result = await run(
      engine,
      makeStep("hang", { action: { kind: "ssh", command: "sleep 30" }, timeoutMs: 400 }),
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.run.status).not.toBe("succeeded");
    expect(JSON.stringify(result)).toMatch(/timed out after 400 ms/);
  });
});
