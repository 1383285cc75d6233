/// <reference lib="dom" />
import { api } from "./api";
import { age, badge, duration, h, replace, short } from "./dom";
import type { Ctx, Page } from "./main";
import { FINAL, followRun } from "./live";
import type { LogRow, RunDetail, StepRow } from "./types";

/** The runs list, and one run's step × host grid kept live from its event stream. */

const runUrl = (id: string) => `/ui/runs/${encodeURIComponent(id)}`;
const flowUrl = (id: string, v: number) => `/ui/flows/${encodeURIComponent(id)}/versions/${v}`;

export async function runsPage(_ctx: Ctx): Promise<Page> {
  const flow = new URLSearchParams(location.search).get("flow") ?? undefined;
  const { runs } = await api.runs(flow);
  const table = runs.length
    ? h(
        "table",
        { class: "runs" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Run", "Flow", "Status", "Engine", "Started", "Took"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          runs.map((r) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: runUrl(r.id) }, short(r.id))),
              h("td", {}, h("a", { href: flowUrl(r.flowId, r.version) }, `${short(r.flowId)} v${r.version}`)),
              h("td", {}, badge(r.status)),
              h("td", {}, r.engine),
              h("td", {}, h("time", { datetime: r.createdAt, title: r.createdAt }, age(r.createdAt))),
              h("td", {}, duration(r.startedAt, r.finishedAt)),
            ),
          ),
        ),
      )
    : h("p", { class: "empty" }, "No runs yet.");
  return {
    title: "Runs",
    body: h("div", {}, h("h1", {}, flow ? `Runs of flow ${short(flow)}` : "Runs"), table),
  };
}

function grid(d: RunDetail, order: string[]): HTMLElement {
  const hosts = [...new Set(d.steps.map((s) => s.host))].sort();
  const steps = [...new Set([...order, ...d.steps.map((s) => s.stepId)])].filter((id) =>
    d.steps.some((s) => s.stepId === id),
  );
  const cell = (row: StepRow | undefined) => {
    if (!row) return h("td", { class: "cell-none" }, "—");
    return h(
      "td",
      {
        class: `cell cell-${row.status}`,
        "data-step": row.stepId,
        "data-host": row.host,
        "data-status": row.status,
      },
      badge(row.status),
      h(
        "div",
        { class: "cell-meta" },
        row.exitCode !== null ? `exit ${row.exitCode} · ` : "",
        row.attempts > 1 ? `${row.attempts} attempts · ` : "",
        row.status === "skipped" ? "" : duration(row.startedAt, row.finishedAt),
      ),
    );
  };
  if (!steps.length) return h("p", { class: "muted" }, "No step has started yet.");
  return h(
    "table",
    { class: "grid" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Step"),
        hosts.map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      {},
      steps.map((id) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, id),
          hosts.map((x) => cell(d.steps.find((s) => s.stepId === id && s.host === x))),
        ),
      ),
    ),
  );
}

function outputs(d: RunDetail): HTMLElement[] {
  return d.steps
    .filter((s) => s.stdout || s.stderr || s.error)
    .map((s) =>
      h(
        "details",
        { class: "output" },
        h(
          "summary",
          {},
          `${s.stepId} on ${s.host}: ${s.status}${s.exitCode !== null ? ` (exit ${s.exitCode})` : ""}`,
        ),
        s.error ? h("p", { class: "error" }, s.error) : null,
        s.stdout ? [h("h3", {}, "stdout"), h("pre", {}, s.stdout)] : null,
        s.stderr ? [h("h3", {}, "stderr"), h("pre", {}, s.stderr)] : null,
      ),
    );
}

function logView(logs: LogRow[]): HTMLElement {
  return h(
    "ol",
    { class: "logs", "aria-label": "Logs" },
    logs.map((l) =>
      h(
        "li",
        { class: `log-${l.level}` },
        h("time", { datetime: l.at }, l.at.slice(11, 23)),
        h("span", { class: "log-where" }, [l.stepId, l.host].filter(Boolean).join(" @ ")),
        h("span", { class: "log-msg" }, l.message),
      ),
    ),
  );
}

export async function runPage(_ctx: Ctx, id: string): Promise<Page> {
  const d = await api.run(id);
  const order = await api
    .version(d.run.flowId, d.run.version)
    .then((x) => api.plan(x.version.planId))
    .then((p) => p.plan.plan.steps.map((s) => s.id))
    .catch(() => [] as string[]);
  const head = h("p", { class: "meta" });
  const live = h("p", { class: "live", role: "status", "aria-live": "polite" });
  const gridBox = h("div", { class: "grid-wrap" });
  const outBox = h("div", {});
  const logBox = h("div", {});
  const status = h("p", { class: "form-status", role: "status" });
  const cancel = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: async () => {
        try {
          await api.cancel(id);
          status.textContent = "Cancellation requested.";
        } catch (e) {
          status.textContent = `Could not cancel: ${(e as Error).message}`;
        }
      },
    },
    "Cancel run",
  );
  const draw = () => {
    const r = d.run;
    replace(
      head,
      badge(r.status),
      ` ${r.engine} engine · `,
      h("a", { href: flowUrl(r.flowId, r.version) }, `flow ${short(r.flowId)} v${r.version}`),
      ` · queued ${age(r.createdAt)}`,
      r.startedAt
        ? ` · ${FINAL.has(r.status) ? "took" : "running for"} ${duration(r.startedAt, r.finishedAt)}`
        : "",
      r.error ? h("span", { class: "error" }, ` · ${r.error}`) : "",
    );
    head.dataset.status = r.status;
    cancel.hidden = FINAL.has(r.status);
    replace(gridBox, grid(d, order));
    replace(outBox, outputs(d));
    replace(logBox, logView(d.logs));
  };
  const abort = new AbortController();
  if (!FINAL.has(d.run.status))
    void followRun(d, { changed: draw, say: (text) => (live.textContent = text), signal: abort.signal });
  draw();
  const body = h(
    "div",
    { class: "run" },
    h("h1", {}, `Run ${short(id)}`),
    head,
    live,
    h("div", { class: "buttons" }, cancel),
    status,
    h(
      "section",
      { class: "card", "aria-labelledby": "grid-h" },
      h("h2", { id: "grid-h" }, "Steps × hosts"),
      gridBox,
    ),
    h("section", { class: "card", "aria-labelledby": "out-h" }, h("h2", { id: "out-h" }, "Outputs"), outBox),
    h("section", { class: "card", "aria-labelledby": "logs-h" }, h("h2", { id: "logs-h" }, "Logs"), logBox),
  );
  return { title: `Run ${short(id)}`, body, dispose: () => abort.abort() };
}
