import { z } from "zod";
import { PlanBody } from "./schema";

type JsonSchema = { [key: string]: unknown };

/** Keywords OpenAI strict structured outputs does not accept; zod enforces them on the reply anyway. */
const UNSUPPORTED = new Set(["minLength", "maxLength", "$schema"]);

/**
 * The Plan's JSON Schema as given to an LLM: zod's output, made acceptable to OpenAI strict
 * mode (no string length keywords, `const` as a one-value `enum`, nested `anyOf` flattened).
 * zod still validates every reply against the full schema, so nothing is lost by dropping them.
 */
export function planJsonSchema(): JsonSchema {
  cached ??= simplify(z.toJSONSchema(PlanBody, { target: "draft-7", io: "output" })) as JsonSchema;
  return cached;
}
let cached: JsonSchema | undefined;

function simplify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(simplify);
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (UNSUPPORTED.has(k)) continue;
    if (k === "const") out.enum = [v];
    else if (k === "anyOf") out.anyOf = (v as unknown[]).map(simplify).flatMap(flattenAnyOf);
    else out[k] = simplify(v);
  }
  return out;
}

function flattenAnyOf(n: unknown): unknown[] {
  const o = n as JsonSchema;
  return o && Object.keys(o).length === 1 && Array.isArray(o.anyOf) ? (o.anyOf as unknown[]) : [n];
}

/** Violations of OpenAI's strict-mode subset, as JSON paths; empty when the schema is acceptable. */
export function strictModeViolations(schema: JsonSchema): string[] {
  const found: string[] = [];
  const walk = (n: unknown, path: string, depth: number) => {
    if (Array.isArray(n)) return n.forEach((x, i) => walk(x, `${path}[${i}]`, depth));
    if (!n || typeof n !== "object") return;
    const o = n as JsonSchema;
    for (const bad of ["oneOf", "allOf", "not", "if", "then", "else", "patternProperties", ...UNSUPPORTED])
      if (bad in o) found.push(`${path}: ${bad}`);
    if (o.type === "object") {
      if (o.additionalProperties !== false) found.push(`${path}: additionalProperties must be false`);
      const props = Object.keys((o.properties as JsonSchema) ?? {});
      const req = new Set((o.required as string[]) ?? []);
      for (const p of props) if (!req.has(p)) found.push(`${path}.${p}: not required`);
      if (depth > 10) found.push(`${path}: nested deeper than 10 objects`);
    }
    for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`, depth + (o.type === "object" ? 1 : 0));
  };
  if ((schema as JsonSchema).type !== "object") found.push("$: root must be an object");
  walk(schema, "$", 0);
  return found;
}
