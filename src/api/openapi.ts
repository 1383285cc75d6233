import { z } from "zod";
import type { Endpoint } from "./endpoint";
import { ErrorBody } from "./schemas";

type JsonSchema = Record<string, unknown>;

const toSchema = (s: z.ZodType, io: "input" | "output"): JsonSchema =>
  z.toJSONSchema(s, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): JsonSchema[] {
  if (!schema) return [];
  const js = toSchema(schema, "input");
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: s,
  }));
}

/** The OpenAPI 3.1 document of the declared endpoints. */
export function openApiDocument(endpoints: readonly Endpoint[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = e.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(e.responses))
      responses[status] = {
        description: r.description,
        ...(r.schema
          ? { content: { [r.contentType ?? "application/json"]: { schema: toSchema(r.schema, "output") } } }
          : {}),
      };
    responses["4XX"] = {
      description:
        "Bad input or refused: a stable code, a message a person can act on, and the field at fault",
      content: { "application/json": { schema: toSchema(ErrorBody, "output") } },
    };
    paths[path] ??= {};
    paths[path][e.method] = {
      summary: e.summary,
      tags: [e.tag],
      ...(e.role ? { security: [{ apiKey: [] }], "x-required-role": e.role } : {}),
      parameters: [...parameters(e.params, "path"), ...parameters(e.query, "query")],
      ...(e.body
        ? {
            requestBody: {
              required: !e.bodyOptional,
              content: { "application/json": { schema: toSchema(e.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key from API_KEYS" },
      },
    },
  };
}
