import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";

/** Reads an SSE stream to its end (the server closes it after run.finished). */
async function readEvents(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ event: string; data: any }[]> {
  const res = await fetch(url, { headers });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("event:"))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
      return { event, data };
    });
}

describe("live run events", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("streams step and log events as the run goes, and ends with run.finished", async () => {
    const created = await stack.call("POST", "/v1/intents", { text: INTENT });
    const id = created.body.flow.id;
    await stack.call("POST", `/v1/flows/${id}/versions/1/approve`);
    const run = (await stack.call("POST", `/v1/flows/${id}/runs`)).body.run;
    const events = await readEvents(`${stack.base}/v1/runs/${run.id}/events`);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("run.status");
    expect(names.at(-1)).toBe("run.finished");
    expect(events.at(-1)!.data.status).toBe("succeeded");
    const finished = events
      .filter((e) => e.event === "step.finished")
      .map((e) => `${e.data.stepId}@${e.data.host}:${e.data.status}`);
    expect(finished).toEqual(
      expect.arrayContaining([
        "check_nginx@web1:succeeded",
        "check_nginx@web2:failed",
        "restart_nginx@web1:skipped",
        "restart_nginx@web2:succeeded",
      ]),
    );
    expect(
      events.some((e) => e.event === "log" && e.data.message.includes("sudo systemctl restart nginx")),
    ).toBe(true);
    // Reading again after the end replays the final state and closes at once.
    const again = await readEvents(`${stack.base}/v1/runs/${run.id}/events`);
    expect(again.at(-1)!.event).toBe("run.finished");
  });

  it("answers 404 for an unknown run instead of an empty stream", async () => {
    const res = await stack.call("GET", "/v1/runs/00000000-0000-4000-8000-000000000000/events");
    expect(res.status).toBe(404);
  });

  it("describes the engines and serves stored plans", async () => {
    const engines = await stack.call("GET", "/v1/engines");
    expect(engines.body).toMatchObject({
      queue: { available: true, backend: "memory" },
      flow: { available: true },
    });
    const created = await stack.call("POST", "/v1/intents", { text: INTENT });
    const version = await stack.call("GET", `/v1/flows/${created.body.flow.id}/versions/1`);
    const plan = await stack.call("GET", `/v1/plans/${version.body.version.planId}`);
    expect(plan.body.plan).toMatchObject({ origin: "intent", planner: "offline" });
    expect(plan.body.plan.plan.steps).toHaveLength(2);
  });
});

describe("execute at once, under the approval policy", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ AUTO_APPROVE_READ_ONLY: "true" });
  });
  afterAll(() => stack?.close());

  it("runs a read-only flow straight away when the policy auto-approves it", async () => {
    const res = await stack.call("POST", "/v1/intents?execute=true", {
      text: "check nginx on web1 and web2",
    });
    expect(res.status).toBe(201);
    expect(res.body.flow).toMatchObject({ status: "approved", readOnly: true });
    expect(res.body.run.status).toBe("queued");
    const result = await stack.waitForRun(res.body.run.id);
    expect(result.run.status).toBe("failed"); // web2's nginx is down: the check fails there
    expect(result.steps.map((s: any) => s.status).sort()).toEqual(["failed", "succeeded"]);
  });

  it("only answers with the pending version when the flow changes machines", async () => {
    const res = await stack.call("POST", "/v1/intents?execute=true", { text: INTENT });
    expect(res.status).toBe(201);
    expect(res.body.flow.status).toBe("pending");
    expect(res.body.run).toBeNull();
    expect(stack.hosts.commands("web2").some((c) => c.includes("restart"))).toBe(false);
  });
});

describe("four-eyes approval", () => {
  let stack: Stack;
  const keys = { ann: "ann-key-0123456789", bob: "bob-key-0123456789" };
  beforeAll(async () => {
    stack = await startStack({
      API_KEYS: `ann:reviewer:${keys.ann},bob:reviewer:${keys.bob}`,
      APPROVAL_FOUR_EYES: "true",
    });
  });
  afterAll(() => stack?.close());

  it("refuses the requester's own approval and accepts another reviewer's", async () => {
    const ann = { authorization: `Bearer ${keys.ann}` };
    const bob = { authorization: `Bearer ${keys.bob}` };
    const created = await stack.call("POST", "/v1/intents", { text: INTENT }, ann);
    const id = created.body.flow.id;
    const own = await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, ann);
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/four-eyes/);
    const other = await stack.call("POST", `/v1/flows/${id}/versions/1/approve`, {}, bob);
    expect(other.status).toBe(200);
    expect(other.body.version.approvedBy).toBe("bob");
  });
});
