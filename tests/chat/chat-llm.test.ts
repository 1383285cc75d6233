import { afterEach, describe, expect, it } from "vitest";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import { type Stack, startStack } from "../helpers/stack";
import { holdConversation } from "./conversation";

const PLANTED_KEY = "sk-planted-chat-secret-7c2e91";

const providers = [
  {
    name: "openai",
    env: (url: string) => ({
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: PLANTED_KEY,
      OPENAI_BASE_URL: `${url}/v1`,
      OPENAI_MODEL: "gpt-4o-mini",
    }),
  },
  {
    name: "ollama",
    env: (url: string) => ({ LLM_PROVIDER: "ollama", OLLAMA_HOST: url, OLLAMA_MODEL: "llama3.1" }),
  },
];

describe.each(providers)("a chat with the $name planner against the replaying LLM server", (p) => {
  let llm: LlmReplayServer;
  let stack: Stack;
  afterEach(async () => {
    await stack?.close();
    await llm?.close();
  });

  it("plans, refines twice through the model, runs after approval and reports the run", async () => {
    llm = await startLlmReplayServer({ scenario: "chat-refine" });
    stack = await startStack(p.env(llm.url));
    const { sessionId } = await holdConversation(stack);

    // One call to plan and one per refinement; "run it" and "did it work?" never reach the model.
    expect(llm.calls).toBe(3);
    const bodies = llm.requests.filter((r) => r.method === "POST").map((r) => r.body as any);
    const refine = bodies[1].messages as { role: string; content: string }[];
    expect(refine[0]!.role).toBe("system");
    expect(refine[1]!.content).toContain("<change>\nalso check disk\n</change>");
    expect(refine[1]!.content).toContain('"id":"restart_nginx"');
    expect(bodies[2].messages[1].content).toContain('"id":"check_disk"');

    // The model saw host names only: no addresses, SSH password or API key.
    const sent = JSON.stringify(bodies);
    expect(sent).not.toContain("127.0.0.1");
    expect(sent).not.toContain(stack.hosts.password);
    expect(sent).not.toContain(PLANTED_KEY);

    const history = await stack.call("GET", `/v1/chat/${sessionId}`);
    expect(JSON.stringify(history.body)).not.toContain(PLANTED_KEY);
    // The refined plan keeps the operator's words, not the model's: its intent is what was asked.
    const { flowId } = history.body.session;
    const v3 = (await stack.call("GET", `/v1/flows/${flowId}/versions/3`)).body.version;
    const plan = (await stack.call("GET", `/v1/plans/${v3.planId}`)).body;
    expect(JSON.stringify(plan)).toContain("; then: also check disk; then: only on web1");
  });
});
