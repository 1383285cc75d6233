import type { MiddlewareHandler } from "hono";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { VersionResult } from "../pipeline";
import type { Store } from "../store/types";

/**
 * Prometheus metrics of one service instance, on its own registry (no global state): HTTP
 * traffic per route, planner calls and latency, route decisions per engine, compile time,
 * runs per status.
 */
export function createMetrics(store: Pick<Store, "countRunsByStatus">) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "intentflow_process_" });
  const requests = new Counter({
    name: "intentflow_http_requests_total",
    help: "HTTP requests by method, route pattern and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "intentflow_http_request_duration_seconds",
    help: "HTTP request latency by route pattern",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const planner = new Histogram({
    name: "intentflow_planner_duration_seconds",
    help: "Time to turn an intent or JSON into a plan, by planner",
    labelNames: ["planner"],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const decisions = new Counter({
    name: "intentflow_route_decisions_total",
    help: "Route decisions by engine and complexity level",
    labelNames: ["engine", "level"],
    registers: [registry],
  });
  const compile = new Histogram({
    name: "intentflow_compile_duration_seconds",
    help: "Codegen + type-check + bundle time of flow versions",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Gauge({
    name: "intentflow_runs",
    help: "Runs in the store by status",
    labelNames: ["status"],
    registers: [registry],
    // Read at scrape time from the store, so every process reports the same, shared truth.
    async collect() {
      this.reset();
      for (const [status, n] of Object.entries(await store.countRunsByStatus())) this.set({ status }, n ?? 0);
    },
  });

  const track: MiddlewareHandler = async function trackRequest(c, next) {
    const start = performance.now();
    await next();
    // The route pattern, not the path: ids must not explode the label set.
    const route = c.req.routePath || "unmatched";
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    latency.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
  };

  return {
    registry,
    track,
    versionCreated(result: VersionResult) {
      if (result.timings.plan !== undefined)
        planner.observe({ planner: result.planner ?? "json" }, result.timings.plan / 1000);
      decisions.inc({ engine: result.route.engine, level: result.route.level });
      if (result.timings.compile !== undefined) compile.observe(result.timings.compile / 1000);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
