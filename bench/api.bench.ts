import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import { Hono } from "hono";
import { startStack } from "../tests/helpers/stack";
import { type Benchmark, type Figure, round, versus } from "./lib";

/**
 * Load on loopback with autocannon (bounded: a few seconds per route): GET /v1/runs/{id} and
 * POST /v1/intents with the offline planner, against a bare Hono route served the same way in
 * the same run.
 */

const SECONDS = 5;
const CONNECTIONS = 10;

type Load = { rps: number; p50: number; p99: number; errors: number; non2xx: number };

async function load(url: string, options: { method?: "GET" | "POST"; body?: string } = {}): Promise<Load> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: options.method ?? "GET",
    ...(options.body ? { body: options.body, headers: { "content-type": "application/json" } } : {}),
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

function figures(name: string, l: Load, base?: Figure): Figure[] {
  const rps = { metric: `${name} requests/s`, value: round(l.rps, 1), unit: "req/s" };
  return [
    base ? versus(rps, base) : rps,
    { metric: `${name} latency p50`, value: l.p50, unit: "ms" },
    { metric: `${name} latency p99`, value: l.p99, unit: "ms" },
    { metric: `${name} errors + non-2xx`, value: l.errors + l.non2xx, unit: "responses" },
  ];
}

const bench: Benchmark = {
  name: "api",
  description: `autocannon, ${CONNECTIONS} connections, ${SECONDS} s per route, loopback`,
  async run() {
    const bare = new Hono();
    bare.get("/hello", (c) => c.json({ status: "ok" }));
    const server = await new Promise<{ port: number; close(): void }>((resolve) => {
      const s = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
        resolve({ port: info.port, close: () => s.close() }),
      );
    });
    const stack = await startStack({ RATE_LIMIT_PER_MINUTE: "1000000" });
    try {
      const created = await stack.call("POST", "/v1/plans", {
        steps: [{ id: "s", name: "uptime", type: "ssh", host: "web1", command: "uptime" }],
      });
      const flowId = created.body.flow.id;
      await stack.call("POST", `/v1/flows/${flowId}/versions/1/approve`);
      const runId = (await stack.call("POST", `/v1/flows/${flowId}/runs`)).body.run.id;
      await stack.waitForRun(runId);

      const baseline = await load(`http://127.0.0.1:${server.port}/hello`);
      const getRun = await load(`${stack.base}/v1/runs/${runId}`);
      const intent = await load(`${stack.base}/v1/intents`, {
        method: "POST",
        body: JSON.stringify({ text: "check nginx on web1 and web2 and restart it where it is down" }),
      });
      const [base] = figures("bare Hono GET", baseline);
      return [
        ...figures("bare Hono GET", baseline),
        ...figures("GET /v1/runs/{id}", getRun, base),
        ...figures("POST /v1/intents (offline planner, flow engine: compile)", intent, base),
      ];
    } finally {
      server.close();
      await stack.close();
    }
  },
};

export default bench;
