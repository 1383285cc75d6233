import OpenAI, { APIConnectionError, APIError } from "openai";
import { planJsonSchema } from "./json-schema";
import { ChatModelPlanner } from "./chat-model-planner";
import { PlanningError } from "./provider";
import type { ChatMessage } from "./repair";

export type OpenAiPlannerOptions = {
  apiKey: string;
  /** An OpenAI-compatible endpoint; the official one when undefined. */
  baseURL?: string | undefined;
  model: string;
  maxRepairs?: number;
  /** Per request, in ms (the client's own default is 10 minutes). */
  timeoutMs?: number;
  /** Client-level retries of failed connections and 429/5xx answers. */
  maxRetries?: number;
  /** Left unset by default: some models accept only their default temperature. */
  temperature?: number;
};

/**
 * Plans with an OpenAI (or OpenAI-compatible) chat model, using strict structured output:
 * the response must match planJsonSchema(). Strict mode cannot express the cross-field rules
 * (references, cycles), so every reply still goes through the shared repair loop.
 */
export class OpenAiPlanner extends ChatModelPlanner {
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAiPlannerOptions) {
    super(`openai:${options.model}`, options.maxRepairs);
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: options.timeoutMs ?? 120_000,
      maxRetries: options.maxRetries ?? 2,
    });
  }

  protected async complete(messages: readonly ChatMessage[]): Promise<string> {
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.options.model,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        response_format: {
          type: "json_schema",
          json_schema: { name: "plan", strict: true, schema: planJsonSchema() },
        },
        ...(this.options.temperature === undefined ? {} : { temperature: this.options.temperature }),
      });
    } catch (error) {
      throw this.transportError(error);
    }
    const message = completion.choices[0]?.message;
    if (message?.refusal)
      throw new PlanningError("not_understood", `${this.name} declined to plan this: ${message.refusal}`, {
        provider: this.name,
      });
    // An empty or cut-off reply is left to the repair loop, which reports it as invalid JSON.
    return message?.content ?? "";
  }

  private transportError(error: unknown): PlanningError {
    const where = this.options.baseURL ?? "api.openai.com";
    if (error instanceof APIConnectionError)
      return new PlanningError(
        "llm_unreachable",
        `could not reach the OpenAI API at ${where} (${error.message}); check OPENAI_BASE_URL and the network`,
        { provider: this.name },
        { cause: error },
      );
    if (error instanceof APIError) {
      const hint =
        error.status === 401
          ? "check OPENAI_API_KEY"
          : error.status === 404
            ? `check OPENAI_MODEL ("${this.options.model}")`
            : error.status === 429
              ? "rate limit or quota reached; try again later"
              : "see the message";
      return new PlanningError(
        "llm_request_failed",
        `the OpenAI API at ${where} answered ${error.status ?? "an error"}: ${error.message}; ${hint}`,
        { provider: this.name, status: error.status },
        { cause: error },
      );
    }
    return new PlanningError(
      "llm_request_failed",
      `the OpenAI request failed: ${(error as Error)?.message ?? String(error)}`,
      { provider: this.name },
      { cause: error },
    );
  }
}
