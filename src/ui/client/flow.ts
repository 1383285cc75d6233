/// <reference lib="dom" />
import { HttpError, api } from "./api";
import { codeView, diagnosticsList, diffView } from "./code";
import { age, badge, h, replace, short } from "./dom";
import { conditionText, planGraph } from "./graph";
import type { Ctx, Page } from "./main";
import type { Action, Diagnostic, Plan, Route, VersionView } from "./types";

/** One flow version: everything a reviewer needs to decide, and the decision itself. */

const flowUrl = (id: string, v: number) => `/ui/flows/${encodeURIComponent(id)}/versions/${v}`;

function section(id: string, title: string, ...body: (Node | null)[]): HTMLElement {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), body);
}

export function actionText(a: Action): string {
  switch (a.kind) {
    case "ssh":
      return String(a.command);
    case "powershell":
      return `PowerShell: ${String(a.script)}`;
    case "http":
      return `${String(a.method)} ${String(a.url)}${a.expectStatus ? ` (expect ${String(a.expectStatus)})` : ""}`;
    case "net":
      return `${String(a.check)}${a.port ? ` port ${String(a.port)}` : ""}`;
    case "sleep":
      return `sleep ${String(a.ms)} ms`;
    default:
      return `${a.kind}: ${String(a.message ?? "")}`;
  }
}

function routeSection(route: Route | null, engine: string): HTMLElement {
  if (!route) return section("route-h", "Route decision", h("p", {}, `Engine: ${engine}`));
  return section(
    "route-h",
    "Route decision",
    h("p", {}, badge(route.engine), ` score ${route.score} (${route.level}) — ${route.reason}`),
    h(
      "table",
      { class: "factors" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Factor", "Score", "", "Weight", "Why"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        Object.entries(route.factors).map(([name, f]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, name),
            h("td", { class: "num" }, String(f.score)),
            h("td", {}, h("meter", { min: 0, max: 100, value: f.score, "aria-label": `${name} score` })),
            h("td", { class: "num" }, f.weight.toFixed(2)),
            h("td", {}, f.why),
          ),
        ),
      ),
    ),
  );
}

function commandsSection(plan: Plan, v: VersionView): HTMLElement {
  return section(
    "commands-h",
    "What will run where",
    h(
      "table",
      { class: "commands" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Step", "Command", "Hosts", "Only if"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        plan.steps.map((st) => {
          const hosts = v.targets[st.id] ?? st.targets ?? [];
          return h(
            "tr",
            { "data-step": st.id },
            h("th", { scope: "row" }, st.name, h("div", { class: "muted" }, st.id)),
            h("td", {}, h("code", { class: "cmd" }, actionText(st.action))),
            h("td", {}, hosts.length ? hosts.join(", ") : "—"),
            h("td", {}, st.when ? conditionText(st.when) : st.trigger === "on_error" ? "on error" : "always"),
          );
        }),
      ),
    ),
  );
}

function decisionSection(ctx: Ctx, v: VersionView): HTMLElement | null {
  const status = h("p", { class: "form-status", role: "status" });
  if (v.status === "approved")
    return section(
      "decision-h",
      "Approved",
      h(
        "p",
        {},
        `Approved by ${v.approvedBy ?? "?"} ${v.approvedAt ? age(v.approvedAt) : ""}${v.comment ? ` — “${v.comment}”` : ""}`,
      ),
      h(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: async () => {
            try {
              const r = await api.startRun(v.flowId, v.version);
              ctx.go(`/ui/runs/${encodeURIComponent(r.run.id)}`);
            } catch (e) {
              status.textContent = `Could not start: ${(e as Error).message}`;
            }
          },
        },
        "Start a run",
      ),
      status,
    );
  if (v.status === "rejected")
    return section(
      "decision-h",
      "Rejected",
      h(
        "p",
        {},
        `Rejected${v.approvedBy ? ` by ${v.approvedBy}` : ""}${v.comment ? ` — “${v.comment}”` : ""}`,
      ),
    );
  if (ctx.me.role === "requester")
    return section(
      "decision-h",
      "Waiting for review",
      h("p", {}, "A reviewer has to approve this version before it can run."),
    );
  const comment = h("textarea", { id: "review-comment", rows: 2 });
  const act = (what: "approve" | "reject") => async () => {
    if (what === "reject" && !comment.value.trim()) {
      status.textContent = "Say why in the comment to reject.";
      comment.focus();
      return;
    }
    try {
      await (what === "approve"
        ? api.approve(v.flowId, v.version, comment.value.trim())
        : api.reject(v.flowId, v.version, comment.value.trim()));
      ctx.go(flowUrl(v.flowId, v.version));
    } catch (e) {
      status.textContent = `Refused: ${(e as Error).message}`;
    }
  };
  return section(
    "decision-h",
    "Your review",
    h("label", { for: "review-comment" }, "Comment (required to reject)"),
    comment,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", class: "primary", onclick: act("approve") }, "Approve"),
      h("button", { type: "button", class: "danger", onclick: act("reject") }, "Reject"),
    ),
    status,
  );
}

function editSection(ctx: Ctx, v: VersionView): HTMLElement {
  const area = h("textarea", { id: "edit-source", rows: 24, spellcheck: "false", class: "editor" });
  area.value = v.source ?? "";
  const status = h("div", { class: "form-status", role: "status" });
  const submit = async (e: Event) => {
    e.preventDefault();
    status.textContent = "Type-checking…";
    try {
      const r = await api.edit(v.flowId, area.value);
      ctx.go(flowUrl(r.version.flowId, r.version.version));
    } catch (err) {
      const diags =
        err instanceof HttpError && Array.isArray(err.details) ? (err.details as Diagnostic[]) : [];
      replace(
        status,
        h("p", { class: "error", role: "alert" }, `Refused: ${(err as Error).message}`),
        diags.length ? diagnosticsList(diags, "E") : null,
        diags.length ? codeView(area.value, diags, "E") : null,
      );
      status.querySelector(".line-error, .line-warning")?.scrollIntoView({ block: "center" });
    }
  };
  return h(
    "details",
    { class: "card edit" },
    h("summary", {}, "Edit the source (submits a new version for review)"),
    h(
      "form",
      { onsubmit: submit },
      h("label", { for: "edit-source" }, "TypeScript source"),
      area,
      h("button", { type: "submit" }, "Submit as a new version"),
    ),
    status,
  );
}

export async function flowPage(ctx: Ctx, id: string, n: number): Promise<Page> {
  const [{ version: v }, { versions }] = await Promise.all([api.version(id, n), api.versions(id)]);
  const [{ plan: stored }, diff] = await Promise.all([api.plan(v.planId), api.diff(id, n)]);
  const plan = stored.plan;
  const hosts = [...new Set(Object.values(v.targets).flat())].sort();
  const body = h(
    "div",
    { class: "flow" },
    h("h1", {}, plan.title),
    h(
      "p",
      { class: "intent-text" },
      h("span", { class: "muted" }, "Intent: "),
      h("q", { id: "intent" }, plan.intent),
    ),
    h(
      "p",
      { class: "meta" },
      badge(v.status),
      " ",
      badge(v.engine),
      " ",
      v.readOnly ? badge("read-only", "readonly") : badge("mutating"),
      ` v${v.version} · on ${hosts.join(", ") || "no hosts"} · by ${v.createdBy ?? "?"} ${age(v.createdAt)} · hash `,
      h("code", { title: v.hash }, short(v.hash)),
    ),
    h(
      "nav",
      { class: "versions", "aria-label": "Versions" },
      "Versions: ",
      [...versions]
        .reverse()
        .map((x) =>
          h(
            "a",
            { href: flowUrl(id, x.version), "aria-current": x.version === n ? "page" : null },
            `v${x.version} (${x.status})`,
          ),
        ),
      " · ",
      h("a", { href: `/ui/runs?flow=${encodeURIComponent(id)}` }, "runs of this flow"),
    ),
    decisionSection(ctx, v),
    routeSection(v.route, v.engine),
    section("graph-h", "Plan", h("div", { class: "graph-wrap" }, planGraph(plan, v.targets))),
    commandsSection(plan, v),
    v.source !== null
      ? section("source-h", "Source", diagnosticsList(v.diagnostics), codeView(v.source, v.diagnostics))
      : section(
          "source-h",
          "Source",
          h("p", {}, "This flow runs on the queue engine from its plan: there is no TypeScript."),
        ),
    section(
      "diff-h",
      diff.against ? `Changes since v${diff.against} (${diff.kind})` : "Changes",
      diff.against ? diffView(diff.diff) : h("p", {}, "The first version: nothing to compare with."),
    ),
    v.source !== null ? editSection(ctx, v) : null,
  );
  return { title: `${plan.title} v${v.version}`, body };
}
