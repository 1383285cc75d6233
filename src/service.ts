import { existsSync } from "node:fs";
import { type Logger, pino } from "pino";
import { createCapabilities, loadCommandPolicy } from "./capabilities";
import type { SshCapability } from "./capabilities/types";
import { createCompiler } from "./compile";
import type { Config } from "./config";
import { CapabilityExecutor } from "./engines/capability-executor";
import { FlowEngine } from "./engines/flow-engine";
import type { JobQueue } from "./engines/job-queue";
import { BullQueue } from "./engines/bullmq-queue";
import { MemoryQueue } from "./engines/memory-queue";
import { QueueEngine } from "./engines/queue-engine";
import { loadRunContext, Runs } from "./engines/runs";
import { createInventory, loadInventory } from "./inventory";
import type { Inventory } from "./inventory/types";
import { autoPromote } from "./library";
import type { PipelineDeps } from "./pipeline";
import type { PlanProvider } from "./plan/provider";
import { selectPlanner } from "./plan/select";
import { sandboxAvailable } from "./sandbox/runner";
import { Scheduler } from "./schedules/scheduler";
import { openStore } from "./store";
import type { Store } from "./store/types";

/**
 * Builds the whole service from a Config: one place that says which parts are in use.
 * Tests pass overrides (a planner pointed at a replay server, an inventory of test hosts).
 */

export type Intentflow = {
  config: Config;
  log: Logger;
  store: Store;
  inventory: Inventory;
  planner: PlanProvider;
  plannerReason: string;
  queue: JobQueue;
  ssh: SshCapability;
  runs: Runs;
  scheduler: Scheduler;
  pipeline: PipelineDeps;
  flowAvailable: boolean;
  /** Whether this process runs jobs (false for `serve --no-worker`). */
  worker: boolean;
  close(): Promise<void>;
};

export type Overrides = Partial<{
  planner: PlanProvider;
  inventory: Inventory;
  log: Logger;
  /** false: this process adds jobs but runs none (`serve --no-worker`); needs a BullMQ backend. */
  worker: boolean;
}>;

/** The queue the configuration names. */
export function openQueue(config: Config, worker = true): JobQueue {
  const q = config.queue;
  if (q.backend === "memory") {
    if (!worker)
      throw new Error(
        "a process without a worker needs a shared queue: set REDIS_URL or a postgres:// DATABASE_URL",
      );
    return new MemoryQueue();
  }
  const lockMs = Math.max(1_000, q.leaseMs);
  if (q.backend === "redis")
    return new BullQueue({
      connection: { kind: "redis", url: config.redisUrl! },
      prefix: q.prefix,
      work: worker,
      lockMs,
    });
  if (config.database.kind !== "postgres")
    throw new Error("the postgres queue backend needs a postgres:// DATABASE_URL");
  return new BullQueue({
    connection: { kind: "postgres", url: config.database.url },
    prefix: `${q.prefix}_queue`,
    work: worker,
    lockMs,
  });
}

export async function createIntentflow(config: Config, overrides: Overrides = {}): Promise<Intentflow> {
  const log =
    overrides.log ??
    pino({
      level: config.logLevel,
      // Defence in depth: credentials never reach the logger, and these paths are cut if they ever do.
      redact: {
        paths: [
          "*.password",
          "*.privateKey",
          "*.passphrase",
          "*.apiKey",
          "*.key",
          "req.headers.authorization",
        ],
        censor: "[redacted]",
      },
    });
  const store = await openStore(config.database);
  await store.migrate();
  const inventory = overrides.inventory ?? (await openInventory(config.inventory, log));
  const selected = overrides.planner
    ? { provider: overrides.planner, reason: `planner supplied by the caller: ${overrides.planner.name}` }
    : await selectPlanner(config.llm);
  const worker = overrides.worker ?? true;
  const queue = openQueue(config, worker);
  const capabilities = createCapabilities({
    inventory,
    policy: await loadCommandPolicy(config.capabilities.commandPolicyFile),
    ssh: config.capabilities.ssh,
    httpAllowHosts: config.capabilities.httpAllowHosts,
    ping: config.capabilities.ping,
    notifyWebhookUrl: config.capabilities.notifyWebhookUrl,
  });
  const ssh = capabilities.ssh;
  const executor = new CapabilityExecutor({ store, capabilities });
  const flowAvailable = sandboxAvailable();
  const flowEngine = flowAvailable ? new FlowEngine({ store, executor, limits: config.sandbox }) : null;
  const queueEngine = new QueueEngine({
    queue,
    store,
    executor,
    loadContext: (runId) => loadRunContext(store, runId),
    concurrency: config.queue.concurrency,
    perHostConcurrency: config.queue.hostConcurrency,
  });
  const runs = new Runs({
    store,
    queue,
    queueEngine,
    flowEngine,
    leaseMs: config.queue.leaseMs,
    onFinished: libraryAutoPromotion(store, config.library.autoPromoteAfter, log),
  });
  if (worker) runs.startSweeping();
  // Every worker process runs a scheduler; claims in the store keep each due run to one of them.
  const scheduler = new Scheduler({ store, runs, log });
  await auditPolicy(store, config);
  if (worker) scheduler.start();
  const compiler = createCompiler();
  const pipeline: PipelineDeps = {
    store,
    inventory,
    planner: selected.provider,
    compiler,
    policy: config.approval,
    commandPolicy: capabilities.policy,
    flowAvailable,
    flowRolloutPercent: config.route.flowRolloutPercent,
  };
  return {
    config,
    log,
    store,
    inventory,
    planner: selected.provider,
    plannerReason: selected.reason,
    queue,
    ssh,
    runs,
    scheduler,
    pipeline,
    flowAvailable,
    worker,
    async close() {
      await scheduler.stop();
      runs.stop();
      await queue.close();
      await capabilities.close();
      await store.close();
    },
  };
}

/** LIBRARY_AUTO_PROMOTE_AFTER > 0: each succeeded run may promote its version (src/library). */
function libraryAutoPromotion(store: Store, after: number, log: Logger) {
  if (after <= 0) return undefined;
  return async ({ runId, status }: { runId: string; status: string }) => {
    if (status !== "succeeded") return;
    const run = await store.getRun(runId);
    if (!run) return;
    try {
      const entry = await autoPromote(store, { ...run, status }, after);
      if (entry)
        log.info(
          { entry: entry.id, flow: entry.flowId, version: entry.version, after },
          "flow promoted to library automatically",
        );
    } catch (err) {
      log.warn({ err, run: runId }, "automatic library promotion failed");
    }
  };
}

/** With nothing configured and no ./inventory.yaml, start with no hosts and say so, rather than refuse to start. */
export async function openInventory(inv: Config["inventory"], log: Logger): Promise<Inventory> {
  if (inv.optional && !existsSync(inv.file)) {
    log.warn(
      `no inventory at ${inv.file}: no hosts are known until INVENTORY_FILE names one (see fixtures/inventory/example.yaml)`,
    );
    return createInventory({ hosts: {} });
  }
  return loadInventory(inv.file);
}

/**
 * Approval policy lives in configuration; a start with a different policy than the last one
 * recorded is a policy change, and goes into the audit trail like any other decision.
 */
async function auditPolicy(store: Store, config: Config): Promise<void> {
  const policy = {
    autoApproveReadOnly: config.approval.autoApproveReadOnly,
    fourEyes: config.approval.fourEyes,
    flowRolloutPercent: config.route.flowRolloutPercent,
    apiKeys: config.apiKeys.map((k) => `${k.name}:${k.role}`),
  };
  const [last] = await store.listAudit({ subject: "policy", limit: 1 });
  if (last && JSON.stringify(last.detail) === JSON.stringify(policy)) return;
  await store.appendAudit({
    at: new Date().toISOString(),
    actor: "config",
    action: last ? "policy.changed" : "policy.initial",
    subject: "policy",
    detail: policy,
  });
}
