import type { Config } from "../config";
import { OfflinePlanner } from "./offline";
import { OllamaPlanner } from "./ollama";
import { OpenAiPlanner } from "./openai";
import type { PlanProvider } from "./provider";

export type PlannerSelection = { provider: PlanProvider; reason: string };

/** How long "auto" waits for Ollama to answer before settling for the offline planner. */
const PROBE_TIMEOUT_MS = 500;

/**
 * Chooses the planner once, at startup, and says why, so the service can report plainly
 * what it is using. An explicit LLM_PROVIDER wins. "auto": OpenAI when a key is configured;
 * else Ollama if it answers at its host and has the model; else the offline planner.
 */
export async function selectPlanner(
  config: Config["llm"],
  opts: { fetch?: typeof fetch; probeTimeoutMs?: number } = {},
): Promise<PlannerSelection> {
  const ollama = () => new OllamaPlanner({ ...config.ollama, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  switch (config.provider) {
    case "offline":
      return { provider: new OfflinePlanner(), reason: "LLM_PROVIDER=offline: using the offline planner" };
    case "ollama":
      return {
        provider: ollama(),
        reason: `LLM_PROVIDER=ollama: using Ollama at ${config.ollama.host} with model ${config.ollama.model}`,
      };
    case "openai":
      return {
        provider: openai(config),
        reason: `LLM_PROVIDER=openai: using ${where(config)} with model ${config.openai.model}`,
      };
    case "auto":
      break;
  }
  if (config.openai.apiKey)
    return {
      provider: openai(config),
      reason: `OPENAI_API_KEY is set: using ${where(config)} with model ${config.openai.model}`,
    };
  const probe = await probeOllama(
    config.ollama,
    opts.fetch ?? fetch,
    opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
  );
  if (probe.ok)
    return {
      provider: ollama(),
      reason: `Ollama answers at ${config.ollama.host} with model ${config.ollama.model}: using it`,
    };
  return {
    provider: new OfflinePlanner(),
    reason: `no LLM configured and ${probe.why}: using the offline planner`,
  };
}

function openai(config: Config["llm"]): OpenAiPlanner {
  const { apiKey, baseURL, model } = config.openai;
  if (!apiKey) throw new Error("LLM_PROVIDER=openai needs OPENAI_API_KEY");
  return new OpenAiPlanner({ apiKey, baseURL, model });
}

function where(config: Config["llm"]): string {
  return config.openai.baseURL ? `the OpenAI-compatible API at ${config.openai.baseURL}` : "the OpenAI API";
}

type Probe = { ok: true } | { ok: false; why: string };

/** GET /api/tags: is Ollama there, and has it pulled the model ("llama3.1" matches "llama3.1:latest")? */
export async function probeOllama(
  ollama: { host: string; model: string },
  f: typeof fetch,
  timeoutMs: number,
): Promise<Probe> {
  const host = ollama.host.replace(/\/+$/, "");
  let body: unknown;
  try {
    const res = await f(`${host}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, why: `Ollama at ${host} answered ${res.status}` };
    body = await res.json();
  } catch {
    return { ok: false, why: `no Ollama at ${host}` };
  }
  const models = (body as { models?: { name?: unknown; model?: unknown }[] })?.models;
  const names = Array.isArray(models)
    ? models.flatMap((m) => [m?.name, m?.model]).filter((n) => typeof n === "string")
    : [];
  const wanted = ollama.model.includes(":") ? [ollama.model] : [ollama.model, `${ollama.model}:latest`];
  if (names.some((n) => wanted.includes(n as string))) return { ok: true };
  return {
    ok: false,
    why: `Ollama at ${host} has no model "${ollama.model}" (run: ollama pull ${ollama.model})`,
  };
}
