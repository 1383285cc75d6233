import { readFileSync } from "node:fs";
import { type LlmReplayServer, startLlmReplayServer } from "../../fixtures/llm/replay-server";
import type { TestHostSpec } from "../../fixtures/test-hosts/server";
import { NGINX_HOSTS, type Stack, startStack } from "./stack";

/**
 * A reusable service check (fixtures/library): which service and which hosts are parameters.
 * Plan JSON as a client would send it, so tests may also send it altered.
 */
export const SERVICE_CHECK: { params: Record<string, unknown>[]; steps: Record<string, unknown>[] } =
  JSON.parse(
    readFileSync(new URL("../../fixtures/library/service-check.plan.json", import.meta.url), "utf8"),
  );

/** Plans the service check (on `engine`, forced, when given) and returns the new flow's id. */
export async function planServiceCheck(stack: Stack, engine?: "queue" | "flow"): Promise<string> {
  const created = await stack.call(
    "POST",
    engine ? `/v1/plans?engine=${engine}&force=true` : "/v1/plans",
    SERVICE_CHECK,
  );
  if (created.status !== 201)
    throw new Error(`planning the service check: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.flow.id as string;
}

/** Approves version 1 of the flow and promotes it to the library as "service check"; the entry. */
export async function promoteServiceCheck(
  stack: Stack,
  flowId: string,
  examples: string[],
): Promise<Record<string, any>> {
  const approved = await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`);
  if (approved.status !== 200)
    throw new Error(`approving the service check: ${approved.status} ${JSON.stringify(approved.body)}`);
  const promoted = await stack.call("POST", "/v1/library", {
    flowId,
    version: 1,
    name: "service check",
    description: "check whether a systemd service is active",
    examples,
  });
  if (promoted.status !== 201)
    throw new Error(`promoting the service check: ${promoted.status} ${JSON.stringify(promoted.body)}`);
  return promoted.body.entry;
}

/** web1 and web2 as NGINX_HOSTS has them, and web3 with nginx active: room to widen a web1/web2 flow. */
export const LIBRARY_HOSTS: TestHostSpec[] = [
  ...NGINX_HOSTS,
  { name: "web3", services: { nginx: "active" } },
];

/** The stack on LIBRARY_HOSTS with the OpenAI planner behind a replay server that counts its calls. */
export async function startWithReplayedOpenAi(): Promise<{ llm: LlmReplayServer; stack: Stack }> {
  const llm = await startLlmReplayServer({ scenario: "nginx-restart" });
  try {
    const stack = await startStack(
      { LLM_PROVIDER: "openai", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: `${llm.url}/v1` },
      LIBRARY_HOSTS,
    );
    return { llm, stack };
  } catch (e) {
    await llm.close();
    throw e;
  }
}
