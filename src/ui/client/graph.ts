/// <reference lib="dom" />
import { s } from "./dom";
import type { Condition, Plan, Step } from "./types";

/**
 * The plan as an SVG graph laid out by dependency depth: one column per depth, steps top to
 * bottom within it; edges carry their condition, and each node its host fan-out.
 */

const W = 250;
const H = 70;
const GAP_X = 90;
const GAP_Y = 28;
const PAD = 16;

export function conditionText(c: Condition): string {
  return `${c.step}.${c.field} ${c.op} ${JSON.stringify(c.value)}${c.perHost ? " (per host)" : ""}`;
}

/** Longest path from a root; cycles (which the schema refuses anyway) cannot loop forever. */
export function depths(steps: Step[]): Map<string, number> {
  const byId = new Map(steps.map((st) => [st.id, st]));
  const handlers = new Map<string, string>();
  for (const st of steps) for (const x of st.onError?.steps ?? []) handlers.set(x, st.id);
  const memo = new Map<string, number>();
  const depth = (id: string, seen: Set<string>): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const st = byId.get(id);
    if (!st || seen.has(id)) return 0;
    seen.add(id);
    const parents = [...st.dependsOn, ...(handlers.has(id) ? [handlers.get(id)!] : [])];
    const d = parents.length ? 1 + Math.max(...parents.map((p) => depth(p, seen))) : 0;
    memo.set(id, d);
    return d;
  };
  for (const st of steps) depth(st.id, new Set());
  return memo;
}

const clip = (t: string, n: number) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

function node(st: Step, x: number, y: number, hosts: number): SVGElement {
  const fan = st.targets === null ? "no hosts" : `× ${hosts} host${hosts === 1 ? "" : "s"}`;
  const extra = st.trigger === "on_error" ? "on error handler" : st.until ? "polls until…" : "";
  return s(
    "g",
    { class: `node node-${st.action.kind}`, "data-step": st.id },
    s("title", {}, `${st.name} (${st.id})`),
    s("rect", { x, y, width: W, height: H, rx: 8 }),
    s("text", { x: x + 10, y: y + 20, class: "node-name" }, clip(st.name, 31)),
    s("text", { x: x + 10, y: y + 38, class: "node-id" }, `${st.id} · ${st.action.kind}`),
    s("text", { x: x + 10, y: y + 56, class: "node-fan" }, clip(`${fan}${extra ? ` · ${extra}` : ""}`, 34)),
  );
}

/** A condition on an edge, in two short lines so columns stay close. */
export function conditionLines(c: Condition): string[] {
  return [`if ${c.step}.${c.field}`, `${c.op} ${JSON.stringify(c.value)}${c.perHost ? " per host" : ""}`];
}

function edge(from: [number, number], to: [number, number], label: string[], kind: string): SVGElement {
  const [x1, y1] = from;
  const [x2, y2] = to;
  const mx = (x1 + x2) / 2;
  const d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
  return s(
    "g",
    { class: `edge edge-${kind}` },
    s("path", { d, "marker-end": "url(#arrow)" }),
    label.map((line, i) =>
      s(
        "text",
        {
          x: mx,
          y: Math.min(y1, y2) - 11 + (i - label.length + 1) * 13,
          "text-anchor": "middle",
          class: "edge-label",
        },
        line,
      ),
    ),
  );
}

/** Room before each column for the longest condition drawn on an edge into it (about 6.5 px a character at 11 px). */
function columnXs(columns: Step[][]): number[] {
  const xs: number[] = [];
  columns.forEach((col, ci) => {
    const longest = Math.max(
      0,
      ...col.map((st) => (st.when ? Math.max(...conditionLines(st.when).map((l) => l.length)) : 0)),
    );
    xs.push(ci === 0 ? PAD : xs[ci - 1]! + W + Math.max(GAP_X, Math.ceil(longest * 6.5) + 24));
  });
  return xs;
}

export function planGraph(plan: Plan, targets: Record<string, string[]>): SVGElement {
  const d = depths(plan.steps);
  const columns: Step[][] = [];
  for (const st of plan.steps) (columns[d.get(st.id) ?? 0] ??= []).push(st);
  for (let i = 0; i < columns.length; i++) columns[i] ??= [];
  const xs = columnXs(columns);
  const pos = new Map<string, [number, number]>();
  columns.forEach((col, ci) =>
    col.forEach((st, ri) => pos.set(st.id, [xs[ci]!, PAD + 4 + ri * (H + GAP_Y)])),
  );
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const width = (xs.at(-1) ?? PAD) + W + PAD;
  const height = PAD * 2 + 4 + rows * H + (rows - 1) * GAP_Y;
  const edges: SVGElement[] = [];
  for (const st of plan.steps) {
    const [tx, ty] = pos.get(st.id)!;
    for (const dep of st.dependsOn) {
      const p = pos.get(dep);
      if (!p) continue;
      const label = st.when && st.when.step === dep ? conditionLines(st.when) : [];
      edges.push(edge([p[0] + W, p[1] + H / 2], [tx, ty + H / 2], label, label.length ? "when" : "plain"));
    }
    for (const handler of st.onError?.steps ?? []) {
      const p = pos.get(handler);
      if (p) edges.push(edge([tx + W, ty + H / 2], [p[0], p[1] + H / 2], ["on error"], "error"));
    }
  }
  const nodes = plan.steps.map((st) => {
    const [x, y] = pos.get(st.id)!;
    return node(st, x, y, (targets[st.id] ?? st.targets ?? []).length);
  });
  return s(
    "svg",
    {
      // up to about 1.5 laptop widths the graph shrinks to fit; wider ones scroll, to stay legible
      class: width <= 1800 ? "graph fit" : "graph",
      role: "img",
      "aria-label": `Plan graph: ${plan.steps.length} steps`,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
    },
    s(
      "defs",
      {},
      s(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto",
        },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }),
      ),
    ),
    edges,
    nodes,
  );
}
