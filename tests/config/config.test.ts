import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";

describe("configuration", () => {
  it("starts with nothing configured: SQLite file, auto planner, loopback", () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: "sqlite", path: "./data/intentflow.db" });
    expect(c.llm.provider).toBe("auto");
    expect(c.host).toBe("127.0.0.1");
    expect(c.port).toBe(8080);
    expect(c.apiKeys).toEqual([]);
  });

  it("reads PostgreSQL, providers and API keys", () => {
    const c = loadConfig({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: "http://127.0.0.1:9999/v1",
      API_KEYS: "alice:reviewer:alice-key-123,ci:requester:ci-key-4567",
    });
    expect(c.database.kind).toBe("postgres");
    expect(c.llm.openai.baseURL).toBe("http://127.0.0.1:9999/v1");
    expect(c.apiKeys.map((k) => [k.name, k.role])).toEqual([
      ["alice", "reviewer"],
      ["ci", "requester"],
    ]);
    expect(c.host).toBe("0.0.0.0");
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ LLM_PROVIDER: "gemini" }, "LLM_PROVIDER"],
    [{ OLLAMA_HOST: "not a url" }, "OLLAMA_HOST"],
    [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL"],
    [{ API_KEYS: "alice:god:key12345678" }, "API_KEYS"],
    [{ API_KEYS: "alice:reviewer:short" }, "API_KEYS"],
    [{ LLM_PROVIDER: "openai" }, "OPENAI_API_KEY"],
    [{ HOST: "0.0.0.0" }, "HOST"],
  ])("stops on %j naming %s", (env, variable) => {
    try {
      loadConfig(env);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.variable)).toContain(variable);
      expect((e as Error).message).toContain(variable);
    }
  });

  it("never echoes a key into its error", () => {
    expect(() => loadConfig({ API_KEYS: "alice:reviewer:tiny" })).toThrow(/shorter than 8/);
    try {
      loadConfig({ API_KEYS: "alice:god:supersecretvalue" });
    } catch (e) {
      expect((e as Error).message).not.toContain("supersecretvalue");
    }
  });
});
