import { pino } from "pino";
import { parseArgs } from "node:util";
import { createCompiler } from "./compile";
import { ConfigError, loadConfig } from "./config";
import { prepareVersion } from "./pipeline";
import { selectPlanner } from "./plan/select";
import type { EnginePreference } from "./route";
import { sandboxAvailable } from "./sandbox/runner";
import { listen } from "./server";
import { createIntentflow, openInventory } from "./service";

const USAGE = `usage:
  intentflow serve [--no-worker]        start the API and a worker in this process (--no-worker: API only,
                                        jobs go to workers elsewhere; needs REDIS_URL or a postgres:// DATABASE_URL)
  intentflow worker                     run jobs of both engines from the shared queue, without the API
  intentflow plan "<intent>" [--engine auto|queue|flow] [--json]
                                        print the plan, the route decision and the generated code`;

async function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { "no-worker": { type: "boolean", default: false } } });
  const worker = !values["no-worker"];
  const config = loadConfig();
  const svc = await createIntentflow(config, { worker });
  const server = await listen(svc);
  const resumed = worker ? await svc.runs.resumeUnfinished() : [];
  svc.log.info(
    {
      url: `http://${config.host}:${server.port}`,
      review: `http://${config.host}:${server.port}/ui/`,
      apiReference: `http://${config.host}:${server.port}/docs`,
      store: config.database.kind === "sqlite" ? `sqlite ${config.database.path}` : "postgres",
      queue: queueName(config.queue.backend),
      worker,
      planner: svc.planner.name,
      flowEngine: svc.flowAvailable ? "available" : "unavailable",
      resumedRuns: resumed.length,
    },
    `intentflow listening; planner: ${svc.plannerReason}` +
      (config.apiKeys.length ? "" : "; no API_KEYS configured, so only loopback clients can reach it"),
  );
  const stop = async () => {
    await server.close();
    await svc.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function workerCommand(): Promise<void> {
  const config = loadConfig();
  if (config.queue.backend === "memory")
    throw new UsageError(
      "a separate worker needs a shared queue: set REDIS_URL, or a postgres:// DATABASE_URL (intentflow serve runs its own worker)",
    );
  const svc = await createIntentflow(config, { worker: true });
  const resumed = await svc.runs.resumeUnfinished();
  svc.log.info(
    {
      store: config.database.kind,
      queue: queueName(config.queue.backend),
      owner: svc.runs.owner,
      flowEngine: svc.flowAvailable ? "available" : "unavailable",
      resumedRuns: resumed.length,
    },
    "intentflow worker running jobs of both engines",
  );
  const stop = async () => {
    await svc.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function queueName(backend: "memory" | "redis" | "postgres"): string {
  return backend === "memory" ? "in-process" : `bullmq on ${backend}`;
}

async function planCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { engine: { type: "string", default: "auto" }, json: { type: "boolean", default: false } },
  });
  const intent = positionals.join(" ").trim();
  if (!intent) throw new UsageError("plan needs the intent text in quotes");
  if (!["auto", "queue", "flow"].includes(values.engine))
    throw new UsageError(`--engine must be auto, queue or flow, not "${values.engine}"`);
  const config = loadConfig();
  const inventory = await openInventory(config.inventory, pino({ level: "warn" }, pino.destination(2)));
  const { provider, reason } = await selectPlanner(config.llm);
  const planned = await provider.plan(intent, { inventory: inventory.describe() });
  const timings: Record<string, number> = {};
  const prepared = await prepareVersion(
    {
      inventory,
      planner: provider,
      compiler: createCompiler(),
      flowAvailable: sandboxAvailable(),
      flowRolloutPercent: config.route.flowRolloutPercent,
    },
    { plan: planned.plan, origin: "intent", planner: planned.provider, warnings: [] },
    { engine: values.engine as EnginePreference, force: false },
    timings,
  );
  const { decision, compiled } = prepared;
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          plan: planned.plan,
          route: decision,
          source: compiled?.source ?? null,
          diagnostics: compiled?.diagnostics ?? [],
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(`# planner: ${reason}\n`);
  console.log(`# plan\n${JSON.stringify(planned.plan, null, 2)}\n`);
  console.log(
    `# route: ${decision.engine} engine (score ${decision.score}, ${decision.level}): ${decision.reason}`,
  );
  for (const [name, f] of Object.entries(decision.factors))
    console.log(`#   ${name.padEnd(18)} ${String(f.score).padStart(3)}  ${f.why}`);
  console.log(
    compiled
      ? `\n# generated flow\n${compiled.source}`
      : "\n# the queue engine runs the plan's steps directly: no code is generated",
  );
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "serve") return serveCommand(rest);
  if (command === "worker") return workerCommand();
  if (command === "plan") return planCommand(rest);
  throw new UsageError(command ? `unknown command "${command}"` : "no command given");
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) console.error(`intentflow: ${e.message}\n${USAGE}`);
  else if (e instanceof ConfigError) console.error(`intentflow: ${e.message}`);
  else console.error(`intentflow: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(e instanceof UsageError ? 64 : 1);
});
