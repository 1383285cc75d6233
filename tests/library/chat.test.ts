import { afterEach, describe, expect, it } from "vitest";
import type { LlmReplayServer } from "../../fixtures/llm/replay-server";
import { say } from "../chat/conversation";
import { planServiceCheck, promoteServiceCheck, startWithReplayedOpenAi } from "../helpers/library";
import type { Stack } from "../helpers/stack";

/**
 * The library through POST /v1/chat: chat asks the same pipeline as POST /v1/intents, so a
 * library flow asked for on wider hosts is a new version pending review (nothing runs), and on a
 * subset of its hosts the same flow for just those hosts, approved, that "run it" runs there only.
 */
describe("the flow library through chat (the OpenAI planner behind a counting replay server)", () => {
  let llm: LlmReplayServer;
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
    await llm?.close();
  });

  async function promoted(engine: "queue" | "flow"): Promise<string> {
    ({ llm, stack } = await startWithReplayedOpenAi());
    const flowId = await planServiceCheck(stack, engine);
    await promoteServiceCheck(stack, flowId, [
      "check nginx on web1 and web2",
      "is nginx running on the web servers",
    ]);
    return flowId;
  }

  it.each(["queue", "flow"] as const)(
    "widening the hosts in chat answers a new version that needs approval, and nothing runs (%s engine)",
    async (engine) => {
      const flowId = await promoted(engine);

      const wider = await say(stack, undefined, "check nginx on web1, web2 and web3");
      expect(wider.kind).toBe("planned");
      expect(llm.calls).toBe(0);
      expect(wider.flow).toMatchObject({ id: flowId, version: 2, status: "pending", engine });
      expect(wider.reply).toContain(
        `Version 2 of flow ${flowId} is pending review: nothing runs until a reviewer approves it`,
      );
      expect(wider.reply).toContain(`POST /v1/flows/${flowId}/versions/2/approve`);
      expect(wider.run).toBeNull();

      // "Run it" is refused while the wider version waits for review.
      const run = await say(stack, wider.sessionId, "run it");
      expect(run.kind).toBe("run_refused");
      expect(run.error).toEqual({ code: "not_approved" });
      expect(run.reply).toContain("I can't run it yet");
      expect(run.run).toBeNull();

      expect((await stack.call("GET", `/v1/runs?flowId=${flowId}`)).body.runs).toEqual([]);
      for (const h of ["web1", "web2", "web3"]) expect(stack.hosts.commands(h)).toEqual([]);
      expect((await stack.call("GET", "/v1/versions?status=pending")).body.versions).toHaveLength(1);
      expect(llm.calls).toBe(0);
    },
  );

  it("a subset of the hosts in chat answers an approved version for just those hosts; run it touches only them", async () => {
    const flowId = await promoted("queue");

    const narrow = await say(stack, undefined, "is nginx running on web2");
    expect(narrow.kind).toBe("planned");
    expect(llm.calls).toBe(0);
    expect(narrow.flow).toMatchObject({ id: flowId, version: 2, status: "approved" });
    expect(narrow.reply).toContain("on web2");
    expect(narrow.reply).toContain(`Version 2 of flow ${flowId} is approved: say "run it" to start it.`);

    const run = await say(stack, narrow.sessionId, "run it");
    expect(run.kind).toBe("run_started");
    const finished = await stack.waitForRun(run.run.run.id);
    expect(finished.run).toMatchObject({ flowId, version: 2 });
    expect(finished.steps.map((r: any) => r.host)).toEqual(["web2"]);
    expect(stack.hosts.commands("web2").some((c) => c.includes("systemctl is-active"))).toBe(true);
    expect(stack.hosts.commands("web1")).toEqual([]);
    expect(stack.hosts.commands("web3")).toEqual([]);
    expect(llm.calls).toBe(0);
  });

  it("a library answer in chat names the entry and its params, and run it runs with those params", async () => {
    const flowId = await promoted("flow");
    const entryId = (await stack.call("GET", "/v1/library")).body.entries[0].id as string;

    const asked = await say(stack, undefined, "check redis on web1 and web2");
    expect(asked.kind).toBe("planned");
    expect(llm.calls).toBe(0);
    expect(asked.flow).toMatchObject({ id: flowId, version: 1, status: "approved" });
    expect(asked.reply).toContain(`This reuses library entry ${entryId} (flow ${flowId} version 1`);
    expect(asked.reply).toContain("service redis");

    const run = await say(stack, asked.sessionId, "run it");
    expect(run.kind).toBe("run_started");
    const finished = await stack.waitForRun(run.run.run.id);
    // The simulated hosts run no redis: the check fails there, which is its answer.
    expect(finished.run).toMatchObject({ flowId, version: 1, status: "failed" });
    for (const h of ["web1", "web2"]) {
      expect(
        stack.hosts.commands(h).some((c) => /is-active '?redis/.test(c)),
        h,
      ).toBe(true);
      expect(
        stack.hosts.commands(h).some((c) => c.includes("nginx")),
        h,
      ).toBe(false);
    }
  });

  it("a conversation runs the version it was shown, not one another conversation made since", async () => {
    const flowId = await promoted("queue");
    const mine = await say(stack, undefined, "check nginx on web1 and web2");
    expect(mine.flow).toMatchObject({ id: flowId, version: 1, status: "approved" });
    // Someone else narrows the same library flow: version 2, for web2 only, is now the latest.
    const theirs = await say(stack, undefined, "is nginx running on web2");
    expect(theirs.flow).toMatchObject({ id: flowId, version: 2, status: "approved" });

    const status = await say(stack, mine.sessionId, "status");
    expect(status.flow).toMatchObject({ id: flowId, version: 1 });
    const run = await say(stack, mine.sessionId, "run it");
    expect(run.kind).toBe("run_started");
    const finished = await stack.waitForRun(run.run.run.id);
    expect(finished.run).toMatchObject({ flowId, version: 1 });
    expect(finished.steps.map((r: any) => r.host).sort()).toEqual(["web1", "web2"]);
  });
});
