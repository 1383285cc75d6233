import { afterEach, describe, expect, it } from "vitest";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import { planJsonSchema } from "../../src/plan/json-schema";
import { OllamaPlanner } from "../../src/plan/ollama";
import { OpenAiPlanner } from "../../src/plan/openai";
import { type InventoryView, PlanningError, type PlanProvider } from "../../src/plan/provider";
import { ctx, inventory } from "./inventory";
import { nginxRestartPlan } from "./plans";

const INTENT = "check nginx on web1 and web2 and restart it where it is down";
const API_KEY = "sk-test-not-a-real-key-0123456789";

let server: LlmReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Chat = { model: string; messages: { role: string; content: string }[] } & Record<string, unknown>;
const chatRequests = (s: LlmReplayServer) =>
  s.requests.filter((r) => r.method === "POST").map((r) => r.body as Chat);

async function rejection(p: Promise<unknown>): Promise<PlanningError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlanningError);
  return error as PlanningError;
}

const providers = {
  openai: (url: string, maxRepairs?: number) =>
    new OpenAiPlanner({
      apiKey: API_KEY,
      baseURL: `${url}/v1`,
      model: "gpt-4o-mini",
      maxRetries: 0,
      maxRepairs,
    }),
  ollama: (url: string, maxRepairs?: number) =>
    new OllamaPlanner({ host: url, model: "llama3.1", maxRepairs }),
} satisfies Record<string, (url: string, maxRepairs?: number) => PlanProvider>;

describe.each(Object.entries(providers))("%s planner against recorded replies", (api, make) => {
  it("plans the nginx scenario in one call", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    const result = await make(server.url).plan(INTENT, ctx);
    expect(result).toEqual({
      plan: {
        ...nginxRestartPlan(),
        title: "Check nginx and restart it where it is down",
        steps: nginxRestartPlan().steps.map((s, i) =>
          i === 0 ? { ...s, description: "exit code 0 where nginx is active" } : { ...s, timeoutMs: 60_000 },
        ),
      },
      provider: api === "openai" ? "openai:gpt-4o-mini" : "ollama:llama3.1",
      attempts: 1,
    });
    expect(server.calls).toBe(1);
  });

  it("repairs an invalid first reply by sending the problems back", async () => {
    server = await startLlmReplayServer({ scenario: "repair" });
    const result = await make(server.url).plan(INTENT, ctx);
    expect(result.attempts).toBe(2);
    expect(result.plan.steps.map((s) => s.id)).toEqual(["check_nginx", "restart_nginx"]);
    const [, second] = chatRequests(server);
    const messages = second?.messages ?? [];
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messages[3]?.content).toMatch(/^Your reply could not be used as a plan:/);
    expect(messages[3]?.content).toContain(
      api === "openai"
        ? '- steps[1].when.step: condition reads step "check_nginx", which must be listed in dependsOn'
        : "- (reply): not valid JSON",
    );
  });

  it("gives up after the configured repairs, listing the issues", async () => {
    server = await startLlmReplayServer({ replies: ['{"title": "half a plan"', "[]", "not json at all"] });
    const error = await rejection(make(server.url, 2).plan(INTENT, ctx));
    expect(error.code).toBe("llm_invalid_plan");
    expect(error.message).toMatch(/gave no valid plan in 3 attempt\(s\): \(reply\): not valid JSON/);
    expect(error.details).toMatchObject({ attempts: 3, issues: [{ path: "(reply)" }] });
    expect(server.calls).toBe(3);
  });

  it("stops at once with maxRepairs 0", async () => {
    server = await startLlmReplayServer({ replies: ["{}", "{}"] });
    const error = await rejection(make(server.url, 0).plan(INTENT, ctx));
    expect(error.code).toBe("llm_invalid_plan");
    expect(server.calls).toBe(1);
  });

  it("rejects a plan naming hosts the inventory lacks, without repairing", async () => {
    const plan = nginxRestartPlan();
    for (const s of plan.steps) s.targets = ["web1", "web9", "group:mail"];
    server = await startLlmReplayServer({ replies: [JSON.stringify(plan)] });
    const error = await rejection(make(server.url).plan(INTENT, ctx));
    expect(error.code).toBe("unknown_host");
    expect(error.message).toBe(
      'not in the inventory: "web9", "group:mail"; known hosts: web1, web2, web3, db1, win1; groups: web, db, windows; tags: prod, staging',
    );
    expect(server.calls).toBe(1);
  });

  it("sends the JSON Schema, in the request and in the system prompt", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    await make(server.url).plan(INTENT, ctx);
    const [request] = chatRequests(server);
    if (api === "openai")
      expect(request?.response_format).toEqual({
        type: "json_schema",
        json_schema: { name: "plan", strict: true, schema: planJsonSchema() },
      });
    else {
      expect(request?.format).toEqual(planJsonSchema());
      expect(request?.stream).toBe(false);
    }
    expect(request?.messages[0]?.content).toContain(JSON.stringify(planJsonSchema()));
    expect(request?.messages[1]).toEqual({ role: "user", content: INTENT });
  });

  it("sends host names, groups and tags, and no addresses or credentials", async () => {
    // An inventory view carrying more than it should: the prompt must pick names only.
    const leaky = {
      ...inventory,
      hosts: inventory.hosts.map((h) => ({
        ...h,
        address: "10.20.30.40",
        user: "deploy",
        credential: { passwordEnv: "WEB_PASSWORD_ENV" },
      })),
    } as InventoryView;
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    await make(server.url).plan(INTENT, { inventory: leaky });
    const body = JSON.stringify(server.requests.map((r) => r.body));
    expect(body).toContain("- web1 (linux; groups: web; tags: prod)");
    expect(body).not.toMatch(/10\.20\.30\.40|deploy|WEB_PASSWORD_ENV/);
    expect(body).not.toContain(API_KEY);
  });

  it("reports an LLM that cannot be reached", async () => {
    server = await startLlmReplayServer({ replies: [] });
    const url = server.url;
    await server.close();
    server = undefined;
    const error = await rejection(make(url).plan(INTENT, ctx));
    expect(error.code).toBe("llm_unreachable");
    expect(error.message).toContain("127.0.0.1");
  });

  it("reports an error answer from the LLM service", async () => {
    const body =
      api === "openai"
        ? {
            error: {
              message: "Incorrect API key provided",
              type: "invalid_request_error",
              code: "invalid_api_key",
            },
          }
        : { error: 'model "llama3.1" not found, try pulling it first' };
    server = await startLlmReplayServer({ replies: [{ status: api === "openai" ? 401 : 404, body }] });
    const error = await rejection(make(server.url).plan(INTENT, ctx));
    expect(error.code).toBe("llm_request_failed");
    expect(error.message).toContain(api === "openai" ? "check OPENAI_API_KEY" : "ollama pull llama3.1");
  });

  it("refuses an empty intent before calling the LLM", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    expect((await rejection(make(server.url).plan("   ", ctx))).code).toBe("invalid_intent");
    expect(server.calls).toBe(0);
  });
});

describe("openai planner specifics", () => {
  it("sends the key only as a bearer token", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    await providers.openai(server.url).plan(INTENT, ctx);
    const post = server.requests.find((r) => r.method === "POST");
    expect(post?.path).toBe("/v1/chat/completions");
    expect(post?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it("treats a refusal as not understood", async () => {
    server = await startLlmReplayServer({
      replies: [
        {
          body: {
            id: "chatcmpl-refusal",
            object: "chat.completion",
            created: 1_741_262_400,
            model: "gpt-4o-mini-2024-07-18",
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: null, refusal: "I can't help with that." },
                finish_reason: "stop",
                logprobs: null,
              },
            ],
          },
        },
      ],
    });
    const error = await rejection(providers.openai(server.url).plan(INTENT, ctx));
    expect(error.code).toBe("not_understood");
    expect(error.message).toContain("I can't help with that.");
  });
});

describe("ollama planner specifics", () => {
  it("reports a model that does not answer in time", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart", delayMs: 1000 });
    const planner = new OllamaPlanner({ host: server.url, model: "llama3.1", timeoutMs: 100 });
    const error = await rejection(planner.plan(INTENT, ctx));
    expect(error.code).toBe("llm_unreachable");
    expect(error.message).toMatch(/did not answer in time/);
  });

  it("asks for deterministic output", async () => {
    server = await startLlmReplayServer({ scenario: "nginx-restart" });
    await providers.ollama(server.url).plan(INTENT, ctx);
    expect(chatRequests(server)[0]?.options).toEqual({ temperature: 0 });
  });
});
