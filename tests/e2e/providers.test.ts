import { afterEach, describe, expect, it } from "vitest";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import { type Stack, startStack } from "../helpers/stack";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";
const PLANTED_KEY = "sk-planted-secret-4f1d9c0e7b";

type Provider = {
  name: string;
  scenario: string;
  expectedCalls: number;
  env: (url: string) => Record<string, string>;
};

const providers: Provider[] = [
  {
    name: "openai",
    // The first reply breaks a cross-field rule; the repair loop feeds the errors back.
    scenario: "repair",
    expectedCalls: 2,
    env: (url) => ({
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: PLANTED_KEY,
      OPENAI_BASE_URL: `${url}/v1`,
      OPENAI_MODEL: "gpt-4o-mini",
    }),
  },
  {
    name: "ollama",
    scenario: "nginx-restart",
    expectedCalls: 1,
    env: (url) => ({ LLM_PROVIDER: "ollama", OLLAMA_HOST: url, OLLAMA_MODEL: "llama3.1" }),
  },
  {
    name: "ollama (repairing a truncated reply)",
    scenario: "repair",
    expectedCalls: 2,
    env: (url) => ({ LLM_PROVIDER: "ollama", OLLAMA_HOST: url, OLLAMA_MODEL: "llama3.1" }),
  },
];

describe.each(providers)("the pipeline with the $name planner over HTTP", (p) => {
  let llm: LlmReplayServer;
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
    await llm?.close();
  });

  it("plans through the real client, then approves and runs the flow against the simulated hosts", async () => {
    llm = await startLlmReplayServer({ scenario: p.scenario });
    stack = await startStack(p.env(llm.url));

    const created = await stack.call("POST", "/v1/intents", { text: INTENT });
    expect(created.status).toBe(201);
    expect(created.body.planner).toMatch(new RegExp(`^${p.name.split(" ")[0]}:`));
    expect(llm.calls).toBe(p.expectedCalls);
    expect(created.body.route.engine).toBe("flow");

    // What the model saw (the request bodies) holds host names only: no addresses, no SSH password, no API key.
    const sent = JSON.stringify(llm.requests.map((r: any) => r.body));
    expect(sent).toContain("web1");
    expect(sent).not.toContain("127.0.0.1");
    expect(sent).not.toContain(stack.hosts.password);
    expect(sent).not.toContain(PLANTED_KEY);

    const { id } = created.body.flow;
    expect((await stack.call("POST", `/v1/flows/${id}/versions/1/approve`)).status).toBe(200);
    const started = await stack.call("POST", `/v1/flows/${id}/runs`, {});
    const result = await stack.waitForRun(started.body.run.id);
    expect(result.run.status).toBe("succeeded");
    expect(stack.hosts.commands("web1").some((c) => c.includes("restart"))).toBe(false);
    expect(stack.hosts.commands("web2").filter((c) => c.includes("restart"))).toHaveLength(1);
    expect(JSON.stringify(result)).not.toContain(PLANTED_KEY);
  });
});

describe("an LLM that never produces a valid plan", () => {
  it("gets a 502 naming the problem after the bounded repairs, and nothing is stored", async () => {
    const llm = await startLlmReplayServer({ replies: ["not json", "{}", '{"title": 3}'] });
    const stack = await startStack({ LLM_PROVIDER: "ollama", OLLAMA_HOST: llm.url });
    try {
      const res = await stack.call("POST", "/v1/intents", { text: INTENT });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("llm_invalid_plan");
      expect(llm.calls).toBe(3);
      expect((await stack.call("GET", "/v1/status")).status).toBe(200);
    } finally {
      await stack.close();
      await llm.close();
    }
  });
});
