import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack";
import { holdConversation, INTENT, say } from "./conversation";

describe("a chat with the offline planner, over HTTP", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("creates, refines twice, refuses to run before approval, runs after it, and reports the run", async () => {
    await holdConversation(stack);
  });

  it('"no restart, just report" keeps the checks; "use the flow engine" changes only the engine', async () => {
    const first = await say(stack, undefined, INTENT);
    const report = await say(stack, first.sessionId, "no restart, just report");
    expect(report.kind).toBe("refined");
    expect(report.plan.steps.map((s: any) => s.id)).toEqual(["check_nginx"]);
    expect(report.changes).toContain("removed restart_nginx");
    expect(report.flow.readOnly).toBe(true);
    expect(report.route.engine).toBe("queue");

    const flow = await say(stack, first.sessionId, "use the flow engine");
    expect(flow.kind).toBe("engine_changed");
    expect(flow.flow).toMatchObject({ id: first.flow.id, version: 3, engine: "flow" });
    expect(flow.plan.steps).toEqual(report.plan.steps);
    expect(flow.flow.source).toContain("check_nginx");

    // The preference stays for later changes.
    const more = await say(stack, first.sessionId, "also check memory");
    expect(more.flow).toMatchObject({ version: 4, engine: "flow" });
  });

  it("answers about a run started outside the conversation (over REST)", async () => {
    const first = await say(stack, undefined, "check disk on web1");
    expect((await say(stack, first.sessionId, "did it work?")).reply).toContain("has not run yet");
    await stack.call("POST", `/v1/flows/${first.flow.id}/versions/1/approve`);
    const run = (await stack.call("POST", `/v1/flows/${first.flow.id}/runs`)).body.run;
    await stack.waitForRun(run.id);
    const report = await say(stack, first.sessionId, "how did the run go");
    expect(report.run.run).toMatchObject({ id: run.id, status: "succeeded" });
  });

  it("answers a status question and an unknown session plainly", async () => {
    const first = await say(stack, undefined, "check disk on web1");
    const status = await say(stack, first.sessionId, "what is the status?");
    expect(status.kind).toBe("status");
    expect(status.reply).toContain("pending review");
    const missing = await stack.call("POST", "/v1/chat", {
      sessionId: "00000000-0000-4000-8000-000000000000",
      message: "hello",
    });
    expect(missing.status).toBe(404);
    expect((await stack.call("GET", "/v1/chat/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await stack.call("POST", "/v1/chat", { message: "" })).status).toBe(400);
  });
});
