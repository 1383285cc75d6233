import { z } from "zod";

/**
 * Every capability call a flow or the queue engine can make: its name, its arguments (the
 * schema the sandbox bridge validates against) and the shape of its result. The one list both
 * sides of the bridge agree on: the SDK inside the isolate sends these, the engines'
 * CapabilityExecutor performs them.
 */

const hostName = z.string().min(1).max(255);
const timeout = z.number().int().min(1).max(86_400_000).nullable();

export const CALL_ARGS = {
  "ssh.exec": z
    .object({ host: hostName, command: z.string().min(1).max(100_000), timeoutMs: timeout })
    .strict(),
  "powershell.run": z
    .object({ host: hostName, script: z.string().min(1).max(100_000), timeoutMs: timeout })
    .strict(),
  "http.request": z
    .object({
      /** The inventory host the request is for (approval is per host); null for a URL outside the inventory. */
      host: hostName.nullable(),
      method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
      url: z.string().min(1).max(4000),
      headers: z
        .array(z.tuple([z.string().min(1).max(200), z.string().max(8000)]))
        .max(100)
        .nullable(),
      body: z.string().max(1_000_000).nullable(),
      timeoutMs: timeout,
    })
    .strict(),
  "net.tcp": z
    .object({ host: hostName, port: z.number().int().min(1).max(65535), timeoutMs: timeout })
    .strict(),
  "net.dns": z.object({ host: hostName, type: z.enum(["A", "AAAA", "ANY"]).nullable() }).strict(),
  "net.ping": z.object({ host: hostName, timeoutMs: timeout }).strict(),
  sleep: z.object({ ms: z.number().int().min(0).max(86_400_000) }).strict(),
  log: z.object({ level: z.enum(["info", "warn", "error"]), message: z.string().max(100_000) }).strict(),
  notify: z.object({ channel: z.string().min(1).max(100), message: z.string().min(1).max(10_000) }).strict(),
} as const;

export type CallName = keyof typeof CALL_ARGS;
export const CALL_NAMES = Object.keys(CALL_ARGS) as CallName[];

/** Calls that reach a machine and so must name a host the run was approved for. */
export const HOST_CALLS: ReadonlySet<CallName> = new Set([
  "ssh.exec",
  "powershell.run",
  "net.tcp",
  "net.dns",
  "net.ping",
]);

export type CallArgs<N extends CallName> = z.infer<(typeof CALL_ARGS)[N]>;
export type AnyCall = { [N in CallName]: { name: N; args: CallArgs<N> } }[CallName];

export type ExecOutcome = {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
};

export type CallResults = {
  "ssh.exec": ExecOutcome;
  /** `data`: stdout parsed as JSON when the script printed JSON, else null. */
  "powershell.run": ExecOutcome & { data: unknown };
  "http.request": {
    status: number;
    headers: [string, string][];
    body: string;
    truncated: boolean;
    durationMs: number;
  };
  "net.tcp": { ok: boolean; latencyMs: number | null; error: string | null };
  "net.dns": { addresses: string[] };
  "net.ping": { ok: boolean; latencyMs: number | null; method: "icmp" | "tcp"; error: string | null };
  sleep: null;
  log: null;
  notify: null;
};

/** Parses an untrusted call (from the sandbox) into a typed one, or throws a ZodError naming the field. */
export function parseCall(name: unknown, args: unknown): AnyCall {
  if (typeof name !== "string" || !(name in CALL_ARGS))
    throw new z.ZodError([
      { code: "custom", path: ["name"], message: `unknown capability "${String(name)}"`, input: name },
    ]);
  const schema = CALL_ARGS[name as CallName];
  return { name, args: schema.parse(args) } as AnyCall;
}
