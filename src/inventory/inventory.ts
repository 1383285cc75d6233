import { resolveCredentials } from "./credentials";
import { formatIssues, type InventoryFile, InventoryFileSchema } from "./schema";
import { resolveSelectors } from "./selectors";
import type { Host, Inventory } from "./types";
import { UnknownHostError } from "./types";

/** The inventory is malformed: the message names every offending field. */
export class InventoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InventoryError";
  }
}

export type InventoryOptions = {
  /** Where relative credential file paths start; defaults to the working directory. */
  baseDir?: string;
  /** Prefix for error messages, e.g. the file name. */
  source?: string;
};

/** Builds an Inventory from already-parsed data (a file's contents, or an object in tests). */
export function createInventory(
  data: unknown,
  env: NodeJS.ProcessEnv = process.env,
  options: InventoryOptions = {},
): Inventory {
  const parsed = InventoryFileSchema.safeParse(data);
  if (!parsed.success) {
    const where = options.source ? `${options.source}: ` : "";
    throw new InventoryError(`${where}invalid inventory: ${formatIssues(parsed.error, data)}`);
  }
  const hosts = toHosts(parsed.data);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const sources = { env, baseDir: options.baseDir ?? process.cwd() };

  return {
    hosts: () => hosts.map(copyHost),
    get: (name) => {
      const h = byName.get(name);
      return h && copyHost(h);
    },
    resolve: (selectors) => resolveSelectors(hosts, selectors),
    describe: () => ({
      hosts: hosts.map((h) => ({ name: h.name, groups: [...h.groups], tags: [...h.tags], os: h.os })),
      groups: unique(hosts.flatMap((h) => h.groups)),
      tags: unique(hosts.flatMap((h) => h.tags)),
    }),
    credentials: async (name) => {
      const h = byName.get(name);
      if (!h)
        throw new UnknownHostError(
          name,
          hosts.map((x) => x.name),
        );
      return resolveCredentials(name, h.credential, sources);
    },
  };
}

function toHosts(file: InventoryFile): Host[] {
  const d = file.defaults ?? {};
  return Object.entries(file.hosts).map(([name, e]) => {
    const host: Host = {
      name,
      address: e.address,
      port: e.port ?? d.port ?? 22,
      user: e.user ?? d.user ?? "root",
      groups: unique(e.groups ?? []),
      tags: unique(e.tags ?? []),
      // A host's credential replaces the default one whole: mixing a default key with a
      // host password would be a combination nobody wrote down.
      credential: { ...(e.credential ?? d.credential ?? {}) },
      os: e.os ?? d.os ?? "linux",
    };
    if (e.hostKey) host.hostKey = e.hostKey.replace(/=$/, "");
    const tofu = e.trustOnFirstUse ?? d.trustOnFirstUse;
    if (tofu !== undefined) host.trustOnFirstUse = tofu;
    return host;
  });
}

/** Callers get copies: nobody can edit the inventory through a returned host. */
function copyHost(h: Host): Host {
  return { ...h, groups: [...h.groups], tags: [...h.tags], credential: { ...h.credential } };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
