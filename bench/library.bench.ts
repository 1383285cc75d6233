import { readFileSync } from "node:fs";
import { loadScenario, startLlmReplayServer } from "../fixtures/llm/replay-server";
import { NGINX_HOSTS, startStack } from "../tests/helpers/stack";
import { type Benchmark, type Figure, percentile, round, sample, versus } from "./lib";

/**
 * Intent → ready-to-run latency: an intent the flow library answers (no LLM, no new code)
 * against one the LLM plans, with the replay server answering after a realistic delay.
 */

const SAMPLES = 10;
/** A hosted model writing a ~2 KB structured plan takes a second or more; 1 s is generous to the LLM path. */
const LLM_DELAY_MS = 1000;
const SERVICE_CHECK = JSON.parse(
  readFileSync(new URL("../fixtures/library/service-check.plan.json", import.meta.url), "utf8"),
);

const bench: Benchmark = {
  name: "library",
  description: `POST /v1/intents, ${SAMPLES} each: a library hit vs the LLM path (replayed, ${LLM_DELAY_MS} ms per reply)`,
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
      NGINX_HOSTS,
    );
    try {
      const created = await stack.call("POST", "/v1/plans", SERVICE_CHECK);
      const flowId = created.body.flow.id;
      await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`);
      const promoted = await stack.call("POST", "/v1/library", {
        flowId,
        version: 1,
        name: "service check",
        description: "check whether a systemd service is active",
        examples: ["check nginx on web1 and web2"],
      });
      if (promoted.status !== 201) throw new Error(`promotion failed: ${JSON.stringify(promoted.body)}`);

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

      const base: Figure = { metric: "LLM path p50", value: round(percentile(planned, 50), 2), unit: "ms" };
      return [
        base,
        { metric: "LLM path p95", value: round(percentile(planned, 95), 2), unit: "ms" },
        versus({ metric: "library hit p50", value: round(percentile(hit, 50), 2), unit: "ms" }, base),
        { metric: "library hit p95", value: round(percentile(hit, 95), 2), unit: "ms" },
        { metric: "LLM calls for the library hits", value: callsBefore, unit: "calls" },
        { metric: "LLM calls for the planned intents", value: llmCalls, unit: "calls" },
      ];
    } finally {
      await stack.close();
      await llm.close();
    }
  },
};

export default bench;
