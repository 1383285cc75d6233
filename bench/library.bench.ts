import { loadScenario, startLlmReplayServer } from "../fixtures/llm/replay-server";
import { systemPrompt } from "../src/plan/repair";
import { planServiceCheck, promoteServiceCheck } from "../tests/helpers/library";
import { NGINX_HOSTS, startStack } from "../tests/helpers/stack";
import { type Benchmark, type Figure, percentile, round, sample, versus } from "./lib";

/**
 * Intent → ready-to-run latency: an intent the flow library answers (no LLM, no new code)
 * against one the LLM plans, with the replay server answering after a realistic delay.
 */

const SAMPLES = 10;
/** A hosted model writing a ~2 KB structured plan takes a second or more; 1 s is generous to the LLM path. */
const LLM_DELAY_MS = 1000;

const bench: Benchmark = {
  name: "library",
  description: `POST /v1/intents, ${SAMPLES} each: a library hit vs the LLM path (replayed, ${LLM_DELAY_MS} ms per reply, with the library's closest entry as a prompt example); a library flow asked for on wider hosts (a new version pending review)`,
  async run() {
    const reply = loadScenario("nginx-restart", "openai")[0]!;
    const llm = await startLlmReplayServer({
      replies: Array(SAMPLES + 1).fill(reply),
      delayMs: LLM_DELAY_MS,
    });
    const stack = await startStack(
      {
        LLM_PROVIDER: "openai",
        OPENAI_API_KEY: "sk-bench",
        OPENAI_BASE_URL: `${llm.url}/v1`,
        LOG_LEVEL: "silent",
      },
      // web3…web12 exist so that each widening sample asks for a reach not asked for before.
      [
        ...NGINX_HOSTS,
        ...Array.from({ length: SAMPLES }, (_, i) => ({
          name: `web${i + 3}`,
          services: { nginx: "active" as const },
        })),
      ],
    );
    try {
      const flowId = await planServiceCheck(stack);
      await promoteServiceCheck(stack, flowId, ["check nginx on web1 and web2"]);

      const ask = async (text: string, planner: string) => {
        const res = await stack.call("POST", "/v1/intents", { text });
        if (res.status !== 201 || !String(res.body.planner).startsWith(planner))
          throw new Error(
            `expected a ${planner} answer, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
          );
      };
      const hit = await sample(SAMPLES, () => ask("check redis on web1 and web2", "library"), 2);
      const callsBefore = llm.calls;
      const planned = await sample(SAMPLES, () =>
        ask("check nginx on web1 and web2 and restart it where it is down", "openai"),
      );
      const llmCalls = llm.calls - callsBefore;
      // The system message each planned intent sent, against the prompt without library examples.
      const sent = llm.requests
        .filter((r) => r.method === "POST")
        .map((r) => (r.body as { messages: { role: string; content: string }[] }).messages[0]!.content);
      const plain = await systemPrompt(stack.svc.inventory.describe());
      const withExamples = sent.filter((m) => m !== plain);

      let k = 3;
      const widened = await sample(SAMPLES, async () => {
        const res = await stack.call("POST", "/v1/intents", { text: `check nginx on web1 web2 web${k++}` });
        if (res.status !== 201 || res.body.library?.approval !== "required")
          throw new Error(
            `expected a widened version, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
          );
      });

      const base: Figure = { metric: "LLM path p50", value: round(percentile(planned, 50), 2), unit: "ms" };
      return [
        base,
        { metric: "LLM path p95", value: round(percentile(planned, 95), 2), unit: "ms" },
        versus({ metric: "library hit p50", value: round(percentile(hit, 50), 2), unit: "ms" }, base),
        { metric: "library hit p95", value: round(percentile(hit, 95), 2), unit: "ms" },
        { metric: "LLM calls for the library hits", value: callsBefore, unit: "calls" },
        { metric: "LLM calls for the planned intents", value: llmCalls, unit: "calls" },
        versus(
          {
            metric: "wider hosts → new version pending review p50",
            value: round(percentile(widened, 50), 2),
            unit: "ms",
          },
          base,
        ),
        {
          metric: "wider hosts → new version pending review p95",
          value: round(percentile(widened, 95), 2),
          unit: "ms",
        },
        {
          metric: "LLM calls for the widened intents",
          value: llm.calls - callsBefore - llmCalls,
          unit: "calls",
        },
        {
          metric: "planned intents whose prompt held library examples",
          value: withExamples.length,
          unit: "requests",
        },
        {
          metric: "system prompt with the library example",
          value: withExamples[0]?.length ?? 0,
          unit: "chars",
          baseline: "system prompt without",
          ratio: round((withExamples[0]?.length ?? 0) / plain.length, 3),
        },
        { metric: "system prompt without", value: plain.length, unit: "chars" },
      ];
    } finally {
      await stack.close();
      await llm.close();
    }
  },
};

export default bench;
