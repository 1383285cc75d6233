import { Ollama } from "ollama";
import { planJsonSchema } from "./json-schema";
import { ChatModelPlanner } from "./chat-model-planner";
import { PlanningError } from "./provider";
import type { ChatMessage } from "./repair";

export type OllamaPlannerOptions = {
  /** e.g. http://127.0.0.1:11434 */
  host: string;
  model: string;
  maxRepairs?: number;
  /** Per request, in ms: a local model on a small machine can be slow, but not forever. */
  timeoutMs?: number;
  fetch?: typeof fetch;
};

/**
 * Plans with a local Ollama model. `format` carries the JSON Schema, but Ollama does not show
 * it to the model (ollama #8162) and some back ends ignore it (#16563), so the system prompt
 * repeats the schema and every reply is validated and, if need be, repaired.
 */
export class OllamaPlanner extends ChatModelPlanner {
  private readonly client: Ollama;

  constructor(private readonly options: OllamaPlannerOptions) {
    super(`ollama:${options.model}`, options.maxRepairs);
    this.client = new Ollama({
      host: options.host,
      fetch: withTimeout(options.fetch ?? fetch, options.timeoutMs ?? 300_000),
    });
  }

  protected async complete(messages: readonly ChatMessage[]): Promise<string> {
    try {
      const response = await this.client.chat({
        model: this.options.model,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        format: planJsonSchema(),
        stream: false,
        // Planning is not creative writing: the same intent should give the same plan.
        options: { temperature: 0 },
      });
      return response.message?.content ?? "";
    } catch (error) {
      throw this.transportError(error);
    }
  }

  private transportError(error: unknown): PlanningError {
    const e = error as { name?: string; message?: string; status_code?: number };
    const host = this.options.host;
    if (e?.name === "ResponseError") {
      const hint =
        e.status_code === 404
          ? `; pull the model first: ollama pull ${this.options.model}`
          : "; see the message";
      return new PlanningError(
        "llm_request_failed",
        `Ollama at ${host} answered ${e.status_code}: ${e.message}${hint}`,
        { provider: this.name, status: e.status_code },
        { cause: error },
      );
    }
    const timedOut = e?.name === "TimeoutError" || e?.name === "AbortError";
    return new PlanningError(
      "llm_unreachable",
      timedOut
        ? `Ollama at ${host} did not answer in time; is the model loaded and the machine not overloaded?`
        : `could not reach Ollama at ${host} (${e?.message ?? String(error)}); is it running? (OLLAMA_HOST)`,
      { provider: this.name },
      { cause: error },
    );
  }
}

/** A fetch that gives up after `ms`, as the ollama client has no timeout of its own. */
function withTimeout(f: typeof fetch, ms: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return f(input, { ...init, signal });
  };
}
