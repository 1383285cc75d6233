/// <reference lib="dom" />
import { api } from "./api";
import { age, badge, h } from "./dom";
import type { Ctx, Page } from "./main";
import type { VersionView } from "./types";

/** Flows waiting for review, newest first, and a box to ask for a new one. */

export const hostsTouched = (v: VersionView) => [...new Set(Object.values(v.targets).flat())].sort();

function intentForm(ctx: Ctx): HTMLElement {
  const text = h("textarea", {
    id: "intent-text",
    rows: 2,
    required: true,
    placeholder: "check nginx on web1 and web2 and restart it where it is down",
  });
  const status = h("p", { class: "form-status", role: "status" });
  return h(
    "form",
    {
      class: "card intent-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        status.textContent = "Planning and compiling…";
        try {
          const r = await api.intent(text.value);
          ctx.go(`/ui/flows/${encodeURIComponent(r.flow.id)}/versions/${r.flow.version}`);
        } catch (err) {
          status.textContent = `Refused: ${(err as Error).message}`;
        }
      },
    },
    h("label", { for: "intent-text" }, "Ask for something new"),
    text,
    h("button", { type: "submit" }, "Plan it"),
    status,
  );
}

export async function inboxPage(ctx: Ctx): Promise<Page> {
  const { versions } = await api.pending();
  const plans = await Promise.all(versions.map((v) => api.plan(v.planId).catch(() => null)));
  const rows = versions.map((v, i) => {
    const plan = plans[i]?.plan.plan;
    const hosts = hostsTouched(v);
    const href = `/ui/flows/${encodeURIComponent(v.flowId)}/versions/${v.version}`;
    return h(
      "tr",
      { "data-flow": v.flowId },
      h(
        "td",
        { class: "intent" },
        h("a", { href }, plan?.intent ?? plan?.title ?? v.flowId),
        plan && plan.title !== plan.intent ? h("div", { class: "muted" }, plan.title) : null,
      ),
      h("td", {}, `v${v.version}`),
      h("td", {}, badge(v.engine)),
      h(
        "td",
        {},
        v.readOnly ? badge("read-only", "readonly") : badge("mutating"),
        h("div", { class: "hosts" }, hosts.length ? hosts.join(", ") : "no hosts"),
      ),
      h("td", {}, v.diagnostics.length ? badge(`${v.diagnostics.length} diagnostics`, "warning") : "—"),
      h("td", {}, v.createdBy ?? "—"),
      h("td", {}, h("time", { datetime: v.createdAt, title: v.createdAt }, age(v.createdAt))),
    );
  });
  const table = rows.length
    ? h(
        "table",
        { class: "inbox" },
        h("caption", {}, `${rows.length} pending review, newest first`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Intent", "Version", "Engine", "Risk and hosts", "Diagnostics", "By", "Age"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h("tbody", {}, rows),
      )
    : h("p", { class: "empty" }, "Nothing is waiting for review.");
  return { title: "Review inbox", body: h("div", {}, h("h1", {}, "Review inbox"), table, intentForm(ctx)) };
}
