/// <reference lib="dom" />
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import { h } from "./dom";
import type { Diagnostic } from "./types";

hljs.registerLanguage("typescript", typescript);

/** "error TS2322: …" for the type checker's numbered codes, "error no-eval: …" for the source policy's named ones. */
export function describe(d: Diagnostic): string {
  const code = typeof d.code === "number" || /^\d+$/.test(d.code) ? `TS${d.code}` : d.code;
  return `${d.severity} ${code}${d.column ? ` (column ${d.column})` : ""}: ${d.message}`;
}

type Token = { text: string; classes: string[] };

/**
 * highlight.js escapes the source it highlights; its markup is parsed in an inert <template>
 * only to read the token classes back, and the page is then built from text nodes, one
 * element per line, so diagnostics can be marked at their lines.
 */
export function highlightLines(source: string): Token[][] {
  const template = document.createElement("template");
  template.innerHTML = hljs.highlight(source, { language: "typescript" }).value;
  const lines: Token[][] = [[]];
  const walk = (n: Node, classes: string[]) => {
    if (n.nodeType === Node.TEXT_NODE) {
      (n.textContent ?? "").split("\n").forEach((part, i) => {
        if (i > 0) lines.push([]);
        if (part) lines[lines.length - 1]!.push({ text: part, classes });
      });
    } else if (n instanceof Element) {
      const own = [...n.classList].filter((c) => /^hljs-[\w-]+$/.test(c));
      for (const c of n.childNodes) walk(c, [...classes, ...own]);
    }
  };
  for (const c of template.content.childNodes) walk(c, []);
  return lines;
}

export function codeView(source: string, diagnostics: Diagnostic[], idPrefix = "L"): HTMLElement {
  const byLine = new Map<number, Diagnostic[]>();
  for (const d of diagnostics) if (d.line) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  const rows = highlightLines(source).map((tokens, i) => {
    const n = i + 1;
    const diags = byLine.get(n) ?? [];
    const sev = diags.some((d) => d.severity === "error") ? "error" : diags.length ? "warning" : "";
    return h(
      "div",
      { class: `line${sev ? ` line-${sev}` : ""}`, id: `${idPrefix}${n}`, "data-line": n },
      h("span", { class: "ln", "aria-hidden": "true" }, String(n)),
      h(
        "code",
        {},
        tokens.map((t) => (t.classes.length ? h("span", { class: t.classes.join(" ") }, t.text) : t.text)),
      ),
      diags.map((d) => h("div", { class: `diag diag-${sev}`, role: "note" }, describe(d))),
    );
  });
  return h(
    "div",
    { class: "code hljs", role: "region", "aria-label": "TypeScript source", tabindex: 0 },
    rows,
  );
}

export function diagnosticsList(diagnostics: Diagnostic[], idPrefix = "L"): HTMLElement {
  if (!diagnostics.length) return h("p", { class: "ok" }, "No diagnostics: the source type-checks.");
  return h(
    "ul",
    { class: "diagnostics" },
    diagnostics.map((d) =>
      h(
        "li",
        { class: `diag-${d.severity}` },
        d.line ? h("a", { href: `#${idPrefix}${d.line}` }, `line ${d.line}`) : "—",
        ` ${describe(d)}`,
      ),
    ),
  );
}

export function diffView(diff: string): HTMLElement {
  const lines = diff.split("\n").filter((l) => !l.startsWith("===="));
  return h(
    "pre",
    { class: "diff", tabindex: 0, "aria-label": "Diff" },
    lines.map((l) => {
      const kind =
        l.startsWith("+++") || l.startsWith("---")
          ? "file"
          : l.startsWith("@@")
            ? "hunk"
            : l[0] === "+"
              ? "add"
              : l[0] === "-"
                ? "del"
                : "ctx";
      return h("span", { class: `d-${kind}` }, `${l}\n`);
    }),
  );
}
