import type { Inventory } from "../inventory/types";
import { abortReason, callScope } from "./call-scope";
import type { CallArgs, CallResults } from "./calls";
import { CapabilityError } from "./types";

/**
 * HTTP requests, only to hosts someone allowed: a host in the allow list (exact, or
 * `*.example.com` for its subdomains), or the inventory host the call names (the URL may use
 * the inventory name, which is replaced by its address). Redirects are not followed: a 3xx
 * comes back as it is, so a redirect cannot lead outside the allow list. Bodies are capped.
 */

export type HttpOptions = {
  inventory: Inventory;
  /** Host names (or `*.domain`) any flow may call; inventory hosts are allowed for their own calls. */
  allowHosts?: readonly string[];
  /** Per response body; the rest is dropped and `truncated` set (default 1 MiB). */
  maxBodyBytes?: number;
  /** When a call gives no timeout (default 30 s). */
  defaultTimeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
};

export interface HttpCapability {
  request(args: CallArgs<"http.request">, signal?: AbortSignal): Promise<CallResults["http.request"]>;
}

export function createHttpCapability(options: HttpOptions): HttpCapability {
  const allow = (options.allowHosts ?? []).map((h) => h.toLowerCase());
  const cap = options.maxBodyBytes ?? 1024 * 1024;
  const doFetch = options.fetch ?? fetch;
  return {
    async request(args, signal) {
      const url = target(args.url, args.host, options.inventory, allow);
      const scope = callScope(
        `HTTP ${args.method} ${url.host}`,
        args.timeoutMs ?? options.defaultTimeoutMs ?? 30_000,
        signal,
      );
      const started = performance.now();
      try {
        const res = await doFetch(url, {
          method: args.method,
          headers: args.headers ?? [],
          body: args.body ?? undefined,
          redirect: "manual",
          signal: scope.signal,
        }).catch((e: unknown) => {
          if (scope.signal.aborted) throw abortReason(scope.signal);
          const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
          throw new CapabilityError("connect_failed", `HTTP ${args.method} to ${url.host} failed (${cause})`);
        });
        const { body, truncated } = await readCapped(res, cap, scope.signal);
        return {
          status: res.status,
          headers: [...res.headers.entries()],
          body,
          truncated,
          durationMs: Math.round(performance.now() - started),
        };
      } finally {
        scope.dispose();
      }
    },
  };
}

function target(raw: string, hostName: string | null, inventory: Inventory, allow: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CapabilityError("invalid_argument", "url is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CapabilityError("invalid_argument", `url scheme ${url.protocol} is not http or https`);
  if (url.username || url.password)
    throw new CapabilityError("invalid_argument", "url must not carry credentials");
  const name = url.hostname.toLowerCase();
  if (hostName !== null) {
    const host = inventory.get(hostName);
    if (!host) throw new CapabilityError("unknown_host", `unknown host "${hostName}"`);
    if (name === host.name.toLowerCase()) url.hostname = host.address;
    if (name === host.name.toLowerCase() || name === host.address.toLowerCase()) return url;
  }
  if (allow.some((a) => a === name || (a.startsWith("*.") && name.endsWith(a.slice(1))))) return url;
  throw new CapabilityError(
    "denied",
    `HTTP to ${name} is not allowed: add it to HTTP_ALLOW_HOSTS${hostName ? "" : " or name the inventory host it belongs to"}`,
  );
}

async function readCapped(
  res: Response,
  cap: number,
  signal: AbortSignal,
): Promise<{ body: string; truncated: boolean }> {
  if (!res.body) return { body: "", truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = cap - size;
      if (value.length > room) {
        chunks.push(Buffer.from(value.subarray(0, room)));
        size = cap;
        truncated = true;
        await reader.cancel();
        break;
      }
      chunks.push(Buffer.from(value));
      size += value.length;
    }
  } catch (e) {
    if (signal.aborted) throw abortReason(signal);
    throw new CapabilityError("failed", `reading the HTTP response failed: ${(e as Error).message}`);
  }
  return { body: Buffer.concat(chunks).toString("utf8"), truncated };
}
