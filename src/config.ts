import { z } from "zod";

/**
 * Configuration, read once from the environment, validated, and passed down.
 * Nothing else in the code reads process.env.
 */

const port = z.coerce.number().int().min(0).max(65535);
const httpUrl = z.url({ protocol: /^https?$/ });

const databaseUrl = z.string().refine((v) => v.startsWith("sqlite:") || /^postgres(ql)?:\/\//.test(v), {
  message: "must be sqlite:<path> or postgres://…",
});

/** `name:role:key` entries separated by commas, e.g. `alice:reviewer:s3cr3t,ci:requester:k2`. */
const apiKeys = z.string().transform((v, ctx) => {
  const keys: ApiKey[] = [];
  for (const entry of v
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [name, role, ...rest] = entry.split(":");
    const key = rest.join(":");
    if (!name || !key || !ROLES.includes(role as Role)) {
      ctx.addIssue({
        code: "custom",
        message: `entry "${name ?? ""}:…" must be name:role:key with role one of ${ROLES.join(", ")}`,
      });
      return z.NEVER;
    }
    if (key.length < 8) {
      ctx.addIssue({ code: "custom", message: `key of "${name}" is shorter than 8 characters` });
      return z.NEVER;
    }
    keys.push({ name, role: role as Role, key });
  }
  return keys;
});

export const ROLES = ["requester", "reviewer", "admin"] as const;
export type Role = (typeof ROLES)[number];
export type ApiKey = { name: string; role: Role; key: string };

const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).optional(),
  DATABASE_URL: databaseUrl.default("sqlite:./data/intentflow.db"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  QUEUE_BACKEND: z.enum(["auto", "memory", "redis", "postgres"]).default("auto"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,40}$/, "lower-case letters, digits and _, starting with a letter")
    .default("intentflow"),
  RUN_LEASE_MS: z.coerce.number().int().min(200).max(3_600_000).default(15_000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(32),
  HOST_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(4),
  LLM_PROVIDER: z.enum(["ollama", "openai", "offline"]).optional(),
  OLLAMA_HOST: httpUrl.default("http://127.0.0.1:11434"),
  OLLAMA_MODEL: z.string().min(1).default("llama3.1"),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: httpUrl.optional(),
  OPENAI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  INVENTORY_FILE: z.string().min(1).optional(),
  API_KEYS: apiKeys.default([]),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SANDBOX_MEMORY_MB: z.coerce.number().int().min(8).max(4096).default(64),
  SANDBOX_TIMEOUT_MS: z.coerce.number().int().min(100).max(86_400_000).default(600_000),
  AUTO_APPROVE_READ_ONLY: z.stringbool().default(false),
  APPROVAL_FOUR_EYES: z.stringbool().default(false),
  FLOW_ROLLOUT_PERCENT: z.coerce.number().min(0).max(100).default(0),
  SSH_KNOWN_HOSTS_FILE: z.string().min(1).optional(),
  SSH_MAX_CONNECTIONS_PER_HOST: z.coerce.number().int().min(1).max(64).default(4),
  SSH_IDLE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  SSH_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  COMMAND_POLICY_FILE: z.string().min(1).optional(),
  HTTP_ALLOW_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .default([]),
  NET_PING: z.enum(["auto", "icmp", "tcp"]).default("auto"),
  NOTIFY_WEBHOOK_URL: httpUrl.optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(1200),
  LIBRARY_AUTO_PROMOTE_AFTER: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export type Config = {
  port: number;
  /** Loopback unless API keys are configured. */
  host: string;
  database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };
  redisUrl: string | undefined;
  /** Where jobs wait: in this process, BullMQ on Redis, or BullMQ on the store's PostgreSQL. */
  queue: {
    backend: "memory" | "redis" | "postgres";
    /** Namespace of the BullMQ queues (Redis key prefix; PostgreSQL schema prefix). */
    prefix: string;
    /** A run claim's lifetime without renewal: how soon a crashed worker's runs are taken over. */
    leaseMs: number;
    /** Step jobs per worker process, and per host within one. */
    concurrency: number;
    hostConcurrency: number;
  };
  llm: {
    provider: "ollama" | "openai" | "offline" | "auto";
    ollama: { host: string; model: string };
    openai: { apiKey: string | undefined; baseURL: string | undefined; model: string };
  };
  /** The inventory file; `optional` when it is the default path, which may be absent (no hosts yet). */
  inventory: { file: string; optional: boolean };
  apiKeys: ApiKey[];
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  sandbox: { memoryMb: number; timeoutMs: number };
  /** fourEyes: the reviewer must be someone other than whoever asked for the version. */
  approval: { autoApproveReadOnly: boolean; fourEyes: boolean };
  route: { flowRolloutPercent: number };
  capabilities: {
    ssh: {
      knownHostsFile: string | undefined;
      maxConnectionsPerHost: number;
      idleMs: number;
      connectTimeoutMs: number;
    };
    commandPolicyFile: string | undefined;
    httpAllowHosts: string[];
    ping: "auto" | "icmp" | "tcp";
    notifyWebhookUrl: string | undefined;
  };
  /** Requests a minute per API key (per actor). */
  rateLimitPerMinute: number;
  /** autoPromoteAfter: succeeded runs after which an approved version joins the flow library; 0 = never. */
  library: { autoPromoteAfter: number };
};

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as shells and compose files often export them that way.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? "?"), message: i.message })),
    );
  }
  const e = parsed.data;
  if (e.LLM_PROVIDER === "openai" && !e.OPENAI_API_KEY)
    throw new ConfigError([{ variable: "OPENAI_API_KEY", message: "required when LLM_PROVIDER=openai" }]);
  const loopback = (h: string) => h === "localhost" || h === "::1" || h.startsWith("127.");
  if (e.HOST && !loopback(e.HOST) && !e.API_KEYS.length)
    throw new ConfigError([
      {
        variable: "HOST",
        message: `listening on ${e.HOST} needs API_KEYS: without keys the service stays on loopback`,
      },
    ]);
  const queueBackend =
    e.QUEUE_BACKEND !== "auto"
      ? e.QUEUE_BACKEND
      : e.REDIS_URL
        ? "redis"
        : e.DATABASE_URL.startsWith("sqlite:")
          ? "memory"
          : "postgres";
  if (queueBackend === "redis" && !e.REDIS_URL)
    throw new ConfigError([{ variable: "REDIS_URL", message: "required when QUEUE_BACKEND=redis" }]);
  if (queueBackend === "postgres" && e.DATABASE_URL.startsWith("sqlite:"))
    throw new ConfigError([
      {
        variable: "QUEUE_BACKEND",
        message: "postgres needs a postgres:// DATABASE_URL (the queue lives there)",
      },
    ]);
  const database = e.DATABASE_URL.startsWith("sqlite:")
    ? ({ kind: "sqlite", path: e.DATABASE_URL.slice("sqlite:".length) || ":memory:" } as const)
    : ({ kind: "postgres", url: e.DATABASE_URL } as const);
  return {
    port: e.PORT,
    // With no API keys anyone who can reach the port could run commands: stay on loopback.
    host: e.HOST ?? (e.API_KEYS.length ? "0.0.0.0" : "127.0.0.1"),
    database,
    redisUrl: e.REDIS_URL,
    queue: {
      backend: queueBackend,
      prefix: e.QUEUE_PREFIX,
      leaseMs: e.RUN_LEASE_MS,
      concurrency: e.WORKER_CONCURRENCY,
      hostConcurrency: e.HOST_CONCURRENCY,
    },
    llm: {
      provider: e.LLM_PROVIDER ?? "auto",
      ollama: { host: e.OLLAMA_HOST, model: e.OLLAMA_MODEL },
      openai: { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL },
    },
    inventory: { file: e.INVENTORY_FILE ?? "./inventory.yaml", optional: !e.INVENTORY_FILE },
    apiKeys: e.API_KEYS,
    logLevel: e.LOG_LEVEL,
    sandbox: { memoryMb: e.SANDBOX_MEMORY_MB, timeoutMs: e.SANDBOX_TIMEOUT_MS },
    approval: { autoApproveReadOnly: e.AUTO_APPROVE_READ_ONLY, fourEyes: e.APPROVAL_FOUR_EYES },
    route: { flowRolloutPercent: e.FLOW_ROLLOUT_PERCENT },
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    library: { autoPromoteAfter: e.LIBRARY_AUTO_PROMOTE_AFTER },
    capabilities: {
      ssh: {
        knownHostsFile: e.SSH_KNOWN_HOSTS_FILE,
        maxConnectionsPerHost: e.SSH_MAX_CONNECTIONS_PER_HOST,
        idleMs: e.SSH_IDLE_MS,
        connectTimeoutMs: e.SSH_CONNECT_TIMEOUT_MS,
      },
      commandPolicyFile: e.COMMAND_POLICY_FILE,
      httpAllowHosts: e.HTTP_ALLOW_HOSTS,
      ping: e.NET_PING,
      notifyWebhookUrl: e.NOTIFY_WEBHOOK_URL,
    },
  };
}
