import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { CapabilityError } from "../capabilities/types";
import { RunRefused } from "../engines/runs";
import { UnknownHostError } from "../inventory/types";
import { PipelineError } from "../pipeline";
import { PlanInputError } from "../plan/input";
import { PlanningError } from "../plan/provider";
import { ApprovalRefused } from "../review/approve";
import { RouteError } from "../route";

/** The one error shape every route answers with: a stable code, a message a person can act on, the field at fault. */
export type ApiErrorBody = { error: { code: string; message: string; field?: string; details?: unknown } };

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const fieldOf = (path: readonly PropertyKey[]) => path.map(String).join(".") || undefined;

/** Maps the domain's errors to HTTP; anything unknown is a 500 whose details stay in the log. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof z.ZodError) {
    const first = e.issues[0];
    return new ApiError(
      400,
      "invalid_body",
      `${fieldOf(first?.path ?? []) ?? "body"}: ${first?.message ?? "invalid"}`,
      fieldOf(first?.path ?? []),
      e.issues.map((i) => ({ path: fieldOf(i.path), message: i.message })),
    );
  }
  if (e instanceof PlanInputError)
    return new ApiError(400, "invalid_plan", e.message, e.issues[0]?.path, e.issues);
  if (e instanceof UnknownHostError)
    return new ApiError(422, "unknown_host", e.message, "targets", { known: e.known });
  if (e instanceof PlanningError)
    return new ApiError(
      e.httpStatus as ContentfulStatusCode,
      e.code,
      e.message,
      e.code === "not_understood" || e.code === "invalid_intent" ? "text" : undefined,
      e.details,
    );
  if (e instanceof RouteError) return new ApiError(422, e.code, e.message, "engine");
  if (e instanceof PipelineError) return new ApiError(422, e.code, e.message, e.field, e.details);
  if (e instanceof ApprovalRefused) {
    const status = { not_found: 404, forbidden: 403, conflict: 409, hash_mismatch: 409 }[
      e.code
    ] as ContentfulStatusCode;
    return new ApiError(status, e.code, e.message);
  }
  if (e instanceof RunRefused) {
    const status = { not_found: 404, not_approved: 409, hash_mismatch: 409, invalid_params: 400 }[
      e.code
    ] as ContentfulStatusCode;
    return new ApiError(status, e.code, e.message, e.field);
  }
  if (e instanceof CapabilityError) return new ApiError(502, e.code, e.message);
  return new ApiError(500, "internal", "internal error; see the server log");
}

export function errorResponse(c: Context, e: ApiError) {
  const body: ApiErrorBody = { error: { code: e.code, message: e.message } };
  if (e.field) body.error.field = e.field;
  if (e.details !== undefined) body.error.details = e.details;
  return c.json(body, e.status);
}
