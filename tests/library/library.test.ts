import { afterEach, describe, expect, it } from "vitest";
import type { LlmReplayServer } from "../../fixtures/llm/replay-server";
import {
  planServiceCheck,
  promoteServiceCheck,
  SERVICE_CHECK,
  startWithReplayedOpenAi,
} from "../helpers/library";
import type { Stack } from "../helpers/stack";

describe("the flow library over HTTP (the OpenAI planner behind a counting replay server)", () => {
  let llm: LlmReplayServer;
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
    await llm?.close();
  });

  async function promoted(engine: "queue" | "flow" = "queue"): Promise<{ flowId: string; entry: any }> {
    const flowId = await planServiceCheck(stack, engine);
    const refused = await stack.call("POST", "/v1/library", {
      flowId,
      version: 1,
      name: "service check",
      description: "check whether a systemd service is active",
      examples: [],
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("not_approved");
    const entry = await promoteServiceCheck(stack, flowId, [
      "check nginx on web1 and web2",
      "is nginx running on the web servers",
    ]);
    return { flowId, entry };
  }

  it("promotes an approved version with its parameters and approved hosts, and lists it", async () => {
    ({ llm, stack } = await startWithReplayedOpenAi());
    const { flowId, entry } = await promoted();
    expect(entry.params.map((p: any) => [p.name, p.type])).toEqual([
      ["hosts", "hosts"],
      ["service", "string"],
    ]);
    expect(entry.approvedHosts).toEqual(["web1", "web2"]);
    const list = await stack.call("GET", "/v1/library");
    expect(list.body.entries.map((e: any) => e.flowId)).toEqual([flowId]);
    expect(list.body.entries[0].stats).toEqual({
      runs: 0,
      finished: 0,
      succeeded: 0,
      successRate: null,
      medianDurationMs: null,
    });
    const dup = await stack.call("POST", "/v1/library", {
      flowId,
      version: 1,
      name: "service check",
      description: "again",
    });
    expect(dup.status).toBe(409);
  });

  it("reuses the approved flow for a close intent with new parameters and no LLM call, and runs it", async () => {
    ({ llm, stack } = await startWithReplayedOpenAi());
    const { flowId, entry } = await promoted();

    const reuse = await stack.call("POST", "/v1/intents", { text: "check redis on web1 and web2" });
    expect(reuse.status, JSON.stringify(reuse.body)).toBe(201);
    expect(llm.calls).toBe(0);
    expect(reuse.body.planner).toBe("library");
    expect(reuse.body.flow).toMatchObject({ id: flowId, version: 1, status: "approved" });
    expect(reuse.body.library).toMatchObject({
      entryId: entry.id,
      name: "service check",
      params: { service: "redis", hosts: ["web1", "web2"] },
    });
    expect(reuse.body.warnings.join(" ")).toContain('reused the approved library flow "service check"');
    // No new code and no new version: the flow still has its one approved version.
    expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(1);

    // A host range for the same hosts; executed at once, with the parameters read from the intent.
    const ran = await stack.call("POST", "/v1/intents?execute=true", { text: "check nginx on web[1-2]" });
    expect(ran.status, JSON.stringify(ran.body)).toBe(201);
    expect(llm.calls).toBe(0);
    expect(ran.body.library.params).toMatchObject({ service: "nginx" });
    const result = await stack.waitForRun(ran.body.run.id);
    expect(result.run.params).toMatchObject({ service: "nginx" });
    expect(stack.hosts.commands("web1").some((c) => c.includes("systemctl is-active"))).toBe(true);
    expect(stack.hosts.commands("web3")).toEqual([]);

    // The entry's run statistics count the run.
    const [listed] = (await stack.call("GET", "/v1/library")).body.entries;
    expect(listed.stats).toMatchObject({ runs: 1, finished: 1 });
    expect(listed.stats.successRate).toBe(result.run.status === "succeeded" ? 1 : 0);
    expect(listed.stats.medianDurationMs).toBeGreaterThanOrEqual(0);
  });

  it("sends an intent the library does not cover to the LLM", async () => {
    ({ llm, stack } = await startWithReplayedOpenAi());
    await promoted();
    const planned = await stack.call("POST", "/v1/intents", {
      text: "check nginx on web1 and web2 and restart it where it is down",
    });
    expect(planned.status, JSON.stringify(planned.body)).toBe(201);
    expect(llm.calls).toBe(1);
    expect(planned.body.planner).toMatch(/^openai:/);
    expect(planned.body.library).toBeUndefined();
  });

  it.each(["queue", "flow"] as const)(
    "widening a library flow's hosts makes a new version of the same flow pending review, calling no LLM (%s engine)",
    async (engine) => {
      ({ llm, stack } = await startWithReplayedOpenAi());
      const { flowId, entry } = await promoted(engine);

      const wider = await stack.call("POST", "/v1/intents?execute=true", {
        text: "check nginx on web1, web2 and web3",
      });
      expect(wider.status, JSON.stringify(wider.body)).toBe(201);
      expect(llm.calls).toBe(0);
      expect(wider.body.planner).toBe("library");
      expect(wider.body.flow).toMatchObject({ id: flowId, version: 2, status: "pending", engine });
      expect(wider.body.run).toBeNull(); // pending: nothing runs
      expect(wider.body.library).toMatchObject({
        entryId: entry.id,
        flowId,
        version: 1,
        approval: "required",
        params: { service: "nginx", hosts: ["web1", "web2", "web3"] },
        widened: { outside: ["web3"], approvedHosts: ["web1", "web2"], created: true },
      });
      expect(wider.body.warnings.join(" ")).toMatch(
        /web3 widen its reach: version 2 .* needs a reviewer's approval/,
      );
      // The same plan, the hosts parameter's default now the wider set: the review diff shows only hosts.
      const v2 = (await stack.call("GET", `/v1/flows/${flowId}/versions/2`)).body.version;
      expect(v2.targets).toEqual({ check: ["web1", "web2", "web3"] });
      const { diff, kind } = (await stack.call("GET", `/v1/flows/${flowId}/versions/2/diff`)).body;
      expect(kind).toBe(engine === "flow" ? "source" : "plan");
      const changed = (diff as string).split("\n").filter((l) => /^[+-](?![+-])/.test(l));
      expect(changed.some((l) => l.includes("web3"))).toBe(true);
      // Only host lists change: nothing else in the code (or plan) differs from the approved version.
      for (const l of changed) expect(l).toMatch(/web[123]/);
      expect((await stack.call("GET", "/v1/versions?status=pending")).body.versions).toHaveLength(1);

      // Asked again (a group that holds web1..web3 is the same reach): the same pending version, no copy.
      const again = await stack.call("POST", "/v1/intents", { text: "check nginx on group:web" });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      expect(again.body.flow).toMatchObject({ id: flowId, version: 2, status: "pending" });
      expect(again.body.library).toMatchObject({
        approval: "required",
        widened: { outside: ["web3"], created: false },
      });
      expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(2);

      // Approved through the normal review path, the wider version's approval carries over and it runs.
      expect((await stack.call("POST", `/v1/flows/${flowId}/versions/2/approve`)).status).toBe(200);
      const ran = await stack.call("POST", "/v1/intents?execute=true", {
        text: "check nginx on web1 web2 web3",
      });
      expect(ran.status, JSON.stringify(ran.body)).toBe(201);
      expect(ran.body.flow).toMatchObject({ id: flowId, version: 2, status: "approved" });
      expect(ran.body.library).toMatchObject({ approval: "carried_over", widened: { created: false } });
      const finished = await stack.waitForRun(ran.body.run.id);
      // web3 was checked: the wider version reached it (the step's result is there, and the command ran).
      expect(finished.steps.find((r: any) => r.host === "web3")).toMatchObject({
        stepId: "check",
        exitCode: 0,
      });
      expect(stack.hosts.commands("web3").some((c) => c.includes("systemctl is-active"))).toBe(true);

      // The hosts the entry was approved for still reuse version 1 as it is.
      const same = await stack.call("POST", "/v1/intents", { text: "check nginx on web1 and web2" });
      expect(same.body.flow).toMatchObject({ id: flowId, version: 1, status: "approved" });
      expect(same.body.library.approval).toBe("carried_over");
      expect(same.body.library.widened).toBeUndefined();
      expect(llm.calls).toBe(0);
      const audit = await stack.call("GET", `/v1/audit?subject=flow:${flowId}@2`);
      expect(audit.body.entries.find((a: any) => a.action === "version.created").detail).toMatchObject({
        base: 1,
        library: entry.id,
        widened: ["web3"],
      });
    },
  );

  it.each(["queue", "flow"] as const)(
    "a strict subset of the approved hosts reuses the library flow on just those hosts, approval carried over, no LLM call (%s engine)",
    async (engine) => {
      ({ llm, stack } = await startWithReplayedOpenAi());
      const { flowId, entry } = await promoted(engine);

      const narrow = await stack.call("POST", "/v1/intents?execute=true", { text: "check nginx on web1" });
      expect(narrow.status, JSON.stringify(narrow.body)).toBe(201);
      expect(llm.calls).toBe(0);
      expect(narrow.body.planner).toBe("library");
      // A version of the same flow for web1 alone, approved: the entry's approval carried over.
      expect(narrow.body.flow).toMatchObject({ id: flowId, version: 2, status: "approved", engine });
      expect(narrow.body.library).toMatchObject({
        entryId: entry.id,
        name: "service check",
        flowId,
        version: 1,
        approval: "carried_over",
        params: { service: "nginx", hosts: ["web1"] },
        narrowed: { hosts: ["web1"], approvedHosts: ["web1", "web2"], created: true },
      });
      expect(narrow.body.library.widened).toBeUndefined();
      expect(narrow.body.warnings.join(" ")).toMatch(
        /reused the approved library flow "service check" \(flow .* version 1, score 1\) on web1, a subset of the hosts it is approved for \(web1, web2\): version 2 .*its approval carries over/,
      );
      expect(narrow.body.run).not.toBeNull();

      // The run touched web1 only: web2, approved for the entry but not named, saw no command at all.
      const finished = await stack.waitForRun(narrow.body.run.id);
      expect(finished.run).toMatchObject({ flowId, version: 2, status: "succeeded" });
      expect(finished.run.params).toEqual({ hosts: ["web1"], service: "nginx" });
      expect(finished.steps.map((r: any) => r.host)).toEqual(["web1"]);
      expect(stack.hosts.commands("web1").some((c) => /systemctl is-active '?nginx/.test(c))).toBe(true);
      expect(stack.hosts.commands("web2")).toEqual([]);
      expect(stack.hosts.commands("web3")).toEqual([]);

      // The new version differs from the approved one only in its host lists.
      const v2 = (await stack.call("GET", `/v1/flows/${flowId}/versions/2`)).body.version;
      expect(v2.targets).toEqual({ check: ["web1"] });
      expect(v2.approvedBy).toBe("library:approval-carried-over");
      expect(v2.comment).toContain("the approval of version 1");
      const { diff } = (await stack.call("GET", `/v1/flows/${flowId}/versions/2/diff`)).body;
      const changed = (diff as string).split("\n").filter((l) => /^[+-](?![+-])/.test(l));
      expect(changed.length).toBeGreaterThan(0);
      for (const l of changed) expect(l).toMatch(/web[12]/);
      expect(changed.some((l) => l.startsWith("-") && l.includes("web2"))).toBe(true);
      expect(changed.some((l) => l.startsWith("+") && l.includes("web2"))).toBe(false);
      const audit = (await stack.call("GET", `/v1/audit?subject=flow:${flowId}@2`)).body.entries;
      expect(audit.find((a: any) => a.action === "version.created").detail).toMatchObject({
        base: 1,
        library: entry.id,
        narrowed: ["web1"],
        approvalFrom: { version: 1 },
      });
      expect(audit.find((a: any) => a.action === "version.approved").actor).toBe(
        "library:approval-carried-over",
      );

      // Asked again for the same hosts, with another service: the same version, no copy; the
      // service is a run param as on the equal-hosts path.
      const again = await stack.call("POST", "/v1/intents?execute=true", { text: "check redis on web1" });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      expect(again.body.flow).toMatchObject({ id: flowId, version: 2, status: "approved" });
      expect(again.body.library).toMatchObject({
        approval: "carried_over",
        params: { service: "redis", hosts: ["web1"] },
        narrowed: { hosts: ["web1"], created: false },
      });
      const second = await stack.waitForRun(again.body.run.id);
      expect(second.run.params).toMatchObject({ service: "redis" });
      expect(stack.hosts.commands("web1").some((c) => /systemctl is-active '?redis/.test(c))).toBe(true);
      expect(stack.hosts.commands("web2")).toEqual([]);
      expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(2);

      // The other host alone is its own narrowing: version 3, run on web2 only.
      const other = await stack.call("POST", "/v1/intents?execute=true", { text: "check nginx on web2" });
      expect(other.body.flow).toMatchObject({ id: flowId, version: 3, status: "approved" });
      await stack.waitForRun(other.body.run.id);
      expect(stack.hosts.commands("web2").some((c) => /systemctl is-active '?nginx/.test(c))).toBe(true);
      expect(stack.hosts.commands("web1").filter((c) => c.includes("nginx"))).toHaveLength(1);

      // The whole approved set still reuses version 1 as it is; nothing is pending review.
      const same = await stack.call("POST", "/v1/intents", { text: "check nginx on web1 and web2" });
      expect(same.body.flow).toMatchObject({ id: flowId, version: 1, status: "approved" });
      expect(same.body.library.narrowed).toBeUndefined();
      expect((await stack.call("GET", "/v1/versions?status=pending")).body.versions).toHaveLength(0);
      expect(llm.calls).toBe(0);
    },
  );

  it("refuses (409 hosts_widened) to widen a library flow whose steps name their hosts outright", async () => {
    ({ llm, stack } = await startWithReplayedOpenAi());
    const fixed = {
      ...SERVICE_CHECK,
      params: SERVICE_CHECK.params.filter((p: any) => p.type !== "hosts"),
      steps: SERVICE_CHECK.steps.map((s: any) => ({ ...s, targets: ["web1", "web2"] })),
    };
    const created = await stack.call("POST", "/v1/plans", fixed);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const flowId = created.body.flow.id;
    await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`);
    const p = await stack.call("POST", "/v1/library", {
      flowId,
      version: 1,
      name: "service check",
      description: "check whether a systemd service is active",
      examples: ["check nginx on web1 and web2"],
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const wider = await stack.call("POST", "/v1/intents", { text: "check nginx on web1, web2 and web3" });
    expect(wider.status).toBe(409);
    expect(wider.body.error.code).toBe("hosts_widened");
    expect(wider.body.error.message).toContain("web3");
    expect(wider.body.error.details.outside).toEqual(["web3"]);
    expect(llm.calls).toBe(0);
    expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(1);

    // A subset cannot be narrowed either (its steps would still reach web2): the planner is asked.
    const narrower = await stack.call("POST", "/v1/intents", { text: "check nginx on web1" });
    expect(narrower.status, JSON.stringify(narrower.body)).toBe(201);
    expect(llm.calls).toBe(1);
    expect(narrower.body.planner).toMatch(/^openai:/);
    expect(narrower.body.library).toBeUndefined();
    expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(1);
  });
});
