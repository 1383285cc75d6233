import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import type { Config } from "../../src/config";
import { selectPlanner } from "../../src/plan/select";
import { ctx } from "./inventory";

let server: LlmReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function llmConfig(overrides: Partial<Config["llm"]> = {}, ollamaHost = "http://127.0.0.1:9"): Config["llm"] {
  return {
    provider: "auto",
    ollama: { host: ollamaHost, model: "llama3.1" },
    openai: { apiKey: undefined, baseURL: undefined, model: "gpt-4o-mini" },
    ...overrides,
  };
}

/** A local port with nothing listening on it. */
async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe("selectPlanner", () => {
  it("auto: uses Ollama when it answers at its host with the model", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    const { provider, reason } = await selectPlanner(llmConfig({}, server.url));
    expect(provider.name).toBe("ollama:llama3.1");
    expect(reason).toBe(`Ollama answers at ${server.url} with model llama3.1: using it`);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/tags"]);
    expect(server.calls).toBe(0);
    // and the planner it chose talks to that Ollama
    expect(
      (await provider.plan("check nginx on web1 and web2 and restart it where it is down", ctx)).attempts,
    ).toBe(1);
  });

  it("auto: falls back to the offline planner when nothing listens, and says so", async () => {
    const url = await closedPortUrl();
    const { provider, reason } = await selectPlanner(llmConfig({}, url));
    expect(provider.name).toBe("offline");
    expect(reason).toBe(`no LLM configured and no Ollama at ${url}: using the offline planner`);
  });

  it("auto: falls back when Ollama lacks the model, saying how to get it", async () => {
    server = await startLlmReplayServer({ replies: [], ollamaModels: ["qwen2.5:7b"] });
    const { provider, reason } = await selectPlanner(llmConfig({}, server.url));
    expect(provider.name).toBe("offline");
    expect(reason).toContain('has no model "llama3.1" (run: ollama pull llama3.1)');
  });

  it("auto: does not wait long for a host that never answers", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const started = Date.now();
    const { provider } = await selectPlanner(llmConfig(), { fetch: hanging });
    expect(provider.name).toBe("offline");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("auto: prefers OpenAI when a key is configured, without probing", async () => {
    let probed = false;
    const { provider, reason } = await selectPlanner(
      llmConfig({ openai: { apiKey: "sk-x", baseURL: undefined, model: "gpt-4o-mini" } }),
      {
        fetch: async () => {
          probed = true;
          return new Response("{}");
        },
      },
    );
    expect(provider.name).toBe("openai:gpt-4o-mini");
    expect(reason).toBe("OPENAI_API_KEY is set: using the OpenAI API with model gpt-4o-mini");
    expect(probed).toBe(false);
  });

  it("an explicit LLM_PROVIDER wins, without probing", async () => {
    const noFetch: typeof fetch = () => Promise.reject(new Error("must not probe"));
    const offline = await selectPlanner(llmConfig({ provider: "offline" }), { fetch: noFetch });
    expect(offline.provider.name).toBe("offline");
    expect(offline.reason).toBe("LLM_PROVIDER=offline: using the offline planner");
    const ollama = await selectPlanner(llmConfig({ provider: "ollama" }), { fetch: noFetch });
    expect(ollama.provider.name).toBe("ollama:llama3.1");
    const openai = await selectPlanner(
      llmConfig({ provider: "openai", openai: { apiKey: "k", baseURL: "http://llm.local/v1", model: "m" } }),
    );
    expect(openai.reason).toBe(
      "LLM_PROVIDER=openai: using the OpenAI-compatible API at http://llm.local/v1 with model m",
    );
  });
});
