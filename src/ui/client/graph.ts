/// <reference lib="dom" />
import { s } from "./dom";
import type { Condition, Plan, Step } from "./types";

/**
 * The plan as an SVG graph laid out by dependency depth: one column per depth, steps top to
 * bottom within it; edges carry their condition, and each node its host fan-out.
 */

const W = 250;
const H = 70;
const GAP_X = 110;
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
    s("text", { x: x + 10, y: y + 20, class: "node-name" }, clip(st.name, 30)),
    s("text", { x: x + 10, y: y + 38, class: "node-id" }, `${st.id} · ${st.action.kind}`),
    s("text", { x: x + 10, y: y + 56, class: "node-fan" }, clip(`${fan}${extra ? ` · ${extra}` : ""}`, 34)),
  );
}

function edge(from: [number, number], to: [number, number], label: string | null, kind: string): SVGElement {
  const [x1, y1] = from;
  const [x2, y2] = to;
  const mx = (x1 + x2) / 2;
  const d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
  return s(
    "g",
    { class: `edge edge-${kind}` },
    s("path", { d, "marker-end": "url(#arrow)" }),
    label
      ? s("text", { x: mx, y: (y1 + y2) / 2 - 8, "text-anchor": "middle", class: "edge-label" }, label)
      : null,
  );
}

/** Room between columns for the longest condition drawn on an edge (about 6.5 px a character at 11 px). */
function columnGap(plan: Plan): number {
  const longest = Math.max(0, ...plan.steps.map((st) => (st.when ? conditionText(st.when).length + 3 : 0)));
  return Math.max(GAP_X, Math.ceil(longest * 6.5) + 24);
}

export function planGraph(plan: Plan, targets: Record<string, string[]>): SVGElement {
  const d = depths(plan.steps);
  const gap = columnGap(plan);
  const columns: Step[][] = [];
  for (const st of plan.steps) (columns[d.get(st.id) ?? 0] ??= []).push(st);
  const pos = new Map<string, [number, number]>();
  columns.forEach((col, ci) =>
    col.forEach((st, ri) => pos.set(st.id, [PAD + ci * (W + gap), PAD + 14 + ri * (H + GAP_Y)])),
  );
  const rows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const width = PAD * 2 + columns.length * W + (columns.length - 1) * gap;
  const height = PAD * 2 + 14 + rows * H + (rows - 1) * GAP_Y;
  const edges: SVGElement[] = [];
  for (const st of plan.steps) {
    const [tx, ty] = pos.get(st.id)!;
    for (const dep of st.dependsOn) {
      const p = pos.get(dep);
      if (!p) continue;
      const label = st.when && st.when.step === dep ? `if ${conditionText(st.when)}` : null;
      edges.push(edge([p[0] + W, p[1] + H / 2], [tx, ty + H / 2], label, label ? "when" : "plain"));
    }
    for (const handler of st.onError?.steps ?? []) {
      const p = pos.get(handler);
      if (p) edges.push(edge([tx + W, ty + H / 2], [p[0], p[1] + H / 2], "on error", "error"));
    }
  }
  const nodes = plan.steps.map((st) => {
    const [x, y] = pos.get(st.id)!;
    return node(st, x, y, (targets[st.id] ?? st.targets ?? []).length);
  });
  return s(
    "svg",
    {
      class: "graph",
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
