import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import type { TestHostSpec } from "../../fixtures/test-hosts/server";
import { NGINX_HOSTS, type Stack, startStack } from "../helpers/stack";

/** A reusable service check: which service and which hosts are parameters. */
const SERVICE_CHECK = JSON.parse(
  readFileSync(new URL("../../fixtures/library/service-check.plan.json", import.meta.url), "utf8"),
);

const HOSTS: TestHostSpec[] = [...NGINX_HOSTS, { name: "web3", services: { nginx: "active" } }];

describe("the flow library over HTTP (the OpenAI planner behind a counting replay server)", () => {
  let llm: LlmReplayServer;
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
    await llm?.close();
  });

  async function promoted(): Promise<{ flowId: string; entry: any }> {
    const created = await stack.call("POST", "/v1/plans", SERVICE_CHECK);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const flowId = created.body.flow.id as string;
    const refused = await stack.call("POST", "/v1/library", {
      flowId,
      version: 1,
      name: "service check",
      description: "check whether a systemd service is active",
      examples: [],
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("not_approved");
    expect((await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`)).status).toBe(200);
    const p = await stack.call("POST", "/v1/library", {
      flowId,
      version: 1,
      name: "service check",
      description: "check whether a systemd service is active",
      examples: ["check nginx on web1 and web2", "is nginx running on the web servers"],
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    return { flowId, entry: p.body.entry };
  }

  it("promotes an approved version with its parameters and approved hosts, and lists it", async () => {
    llm = await startLlmReplayServer({ scenario: "nginx-restart" });
    stack = await startStack(
      { LLM_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1` },
      HOSTS,
    );
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
    llm = await startLlmReplayServer({ scenario: "nginx-restart" });
    stack = await startStack(
      { LLM_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1` },
      HOSTS,
    );
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
    llm = await startLlmReplayServer({ scenario: "nginx-restart" });
    stack = await startStack(
      { LLM_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1` },
      HOSTS,
    );
    await promoted();
    const planned = await stack.call("POST", "/v1/intents", {
      text: "check nginx on web1 and web2 and restart it where it is down",
    });
    expect(planned.status, JSON.stringify(planned.body)).toBe(201);
    expect(llm.calls).toBe(1);
    expect(planned.body.planner).toMatch(/^openai:/);
    expect(planned.body.library).toBeUndefined();
  });

  it("refuses to widen a library flow's hosts without a new approval (409), calling no LLM", async () => {
    llm = await startLlmReplayServer({ scenario: "nginx-restart" });
    stack = await startStack(
      { LLM_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1` },
      HOSTS,
    );
    const { flowId } = await promoted();
    const wider = await stack.call("POST", "/v1/intents", { text: "check nginx on web1, web2 and web3" });
    expect(wider.status).toBe(409);
    expect(wider.body.error.code).toBe("hosts_widened");
    expect(wider.body.error.message).toContain("web3");
    // A group that holds web3 too widens it just the same.
    const group = await stack.call("POST", "/v1/intents", { text: "check nginx on group:web" });
    expect(group.status).toBe(409);
    expect(group.body.error.details.outside).toEqual(["web3"]);
    expect(llm.calls).toBe(0);
    expect((await stack.call("GET", `/v1/flows/${flowId}/versions`)).body.versions).toHaveLength(1);
  });
});
