import { z } from "zod";
import { LibraryError, promote } from "../../library";
import type { Intentflow } from "../../service";
import { endpoint } from "../endpoint";
import { ApiError } from "../errors";
import { ErrorBody } from "../schemas";

const LibraryParamView = z.object({
  name: z.string(),
  type: z.enum(["string", "number", "boolean", "hosts"]),
  description: z.string(),
  default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).nullable(),
});

const LibraryEntryView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  flowId: z.string(),
  version: z.number().int(),
  params: z.array(LibraryParamView),
  examples: z.array(z.string()),
  approvedHosts: z.array(z.string()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  /** Runs of the entry's version: how many, the share that succeeded, the median duration. */
  stats: z
    .object({
      runs: z.number().int(),
      finished: z.number().int(),
      succeeded: z.number().int(),
      successRate: z.number().nullable(),
      medianDurationMs: z.number().nullable(),
    })
    .optional(),
});

const PromoteBody = z
  .object({
    flowId: z.string().min(1).max(100),
    version: z.number().int().min(1),
    name: z.string().min(1).max(200),
    description: z.string().min(1).max(2000),
    examples: z.array(z.string().min(1).max(1000)).max(50).default([]),
  })
  .strict();

const STATUS = {
  not_found: 404,
  not_approved: 409,
  name_taken: 409,
  already_promoted: 409,
  hosts_widened: 409,
} as const;

export const libraryEndpoints = (svc: Intentflow) => [
  endpoint({
    method: "post",
    path: "/v1/library",
    summary:
      "Promote an approved flow version to the flow library (reviewer or admin): intents that match it reuse it without a planner",
    tag: "review",
    role: "reviewer",
    body: PromoteBody,
    responses: {
      201: { description: "the library entry", schema: z.object({ entry: LibraryEntryView }) },
      409: {
        description:
          "not_approved (only approved versions are promoted), name_taken, or already_promoted (the version has an entry)",
        schema: ErrorBody,
      },
    },
    handle: async ({ body }, c) => {
      const actor = c.get("actor");
      try {
        const entry = await promote(svc.store, body, actor.name);
        svc.log.info(
          { entry: entry.id, flow: entry.flowId, version: entry.version, by: actor.name },
          "flow promoted to library",
        );
        return c.json({ entry }, 201);
      } catch (e) {
        if (e instanceof LibraryError)
          throw new ApiError(STATUS[e.code], e.code, e.message, e.field, e.details);
        throw e;
      }
    },
  }),
  endpoint({
    method: "get",
    path: "/v1/library",
    summary: "The flow library's entries, oldest first, each with its run statistics",
    tag: "review",
    role: "requester",
    responses: { 200: { description: "entries", schema: z.object({ entries: z.array(LibraryEntryView) }) } },
    handle: async (_req, c) => {
      const entries = await svc.store.listLibraryEntries();
      const stats = await Promise.all(entries.map((e) => svc.store.libraryStats(e.flowId, e.version)));
      return c.json({ entries: entries.map((e, i) => ({ ...e, stats: stats[i] })) });
    },
  }),
];
