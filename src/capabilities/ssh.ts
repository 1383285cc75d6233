import type { Host, Inventory } from "../inventory/types";
import { callScope } from "./call-scope";
import { type FirstUsePins, hostKeyCheck } from "./host-key";
import { KnownHosts } from "./known-hosts";
import { type ConnectSettings, openConnection, type SshConnection } from "./ssh-connection";
import { CommandNotStartedError, runCommand } from "./ssh-exec";
import { HostPool } from "./ssh-pool";
import { CapabilityError, type ExecOptions, type ExecResult, type SshCapability } from "./types";

/**
 * SSH exec over ssh2, for hosts named in the inventory. Callers pass names only; addresses,
 * users and credentials are looked up here, credentials afresh for each new connection.
 */

export type SshCapabilityOptions = {
  inventory: Inventory;
  /** Connections open at once to one host (default 4). */
  maxConnectionsPerHost?: number;
  /** Close a connection unused for this long (default 30 s). */
  idleMs?: number;
  /** TCP connect + handshake + authentication (default 10 s). */
  connectTimeoutMs?: number;
  /** Default bound on a whole exec call, waiting for a connection included (default 5 min). */
  commandTimeoutMs?: number;
  /** Per stream; output beyond it is dropped and `truncated` set (default 1 MiB). */
  outputCapBytes?: number;
  /** SSH keepalive interval; three unanswered keepalives close the connection (default 15 s). */
  keepaliveMs?: number;
  /**
   * An OpenSSH known_hosts file: keys for hosts the inventory does not pin, and where keys
   * trusted on first use are written so they survive a restart.
   */
  knownHostsFile?: string;
};

/** The SSH capability plus what tests and status pages may inspect. */
export type PooledSshCapability = SshCapability & {
  /** Open connections to a host right now. */
  openConnections(host: string): number;
};

/** OpenSSH accepts exec requests up to its 256 KiB packet limit; larger ones fail obscurely. */
const MAX_COMMAND_BYTES = 256 * 1024;

export function createSshCapability(options: SshCapabilityOptions): PooledSshCapability {
  const { inventory } = options;
  const limits = {
    maxConnections: positive(options.maxConnectionsPerHost, 4, "maxConnectionsPerHost"),
    idleMs: positive(options.idleMs, 30_000, "idleMs"),
  };
  const settings: ConnectSettings = {
    connectTimeoutMs: positive(options.connectTimeoutMs, 10_000, "connectTimeoutMs"),
    keepaliveMs: positive(options.keepaliveMs, 15_000, "keepaliveMs"),
    keepaliveCountMax: 3,
  };
  const commandTimeoutMs = positive(options.commandTimeoutMs, 300_000, "commandTimeoutMs");
  const outputCapBytes = positive(options.outputCapBytes, 1024 * 1024, "outputCapBytes");
  const firstUse: FirstUsePins = new Map();
  const knownHosts = options.knownHostsFile ? new KnownHosts(options.knownHostsFile) : undefined;
  const pools = new Map<string, HostPool>();
  let closed = false;

  const connect = async (host: Host): Promise<SshConnection> => {
    let credentials: Awaited<ReturnType<Inventory["credentials"]>>;
    try {
      credentials = await inventory.credentials(host.name);
    } catch (e) {
      // Credential errors name the variable or file, never its contents (see inventory/credentials.ts).
      throw new CapabilityError("auth_failed", (e as Error).message);
    }
    return openConnection(host, credentials, hostKeyCheck(host, firstUse, knownHosts), settings);
  };

  const poolFor = (host: Host): HostPool => {
    let pool = pools.get(host.name);
    if (!pool) {
      pool = new HostPool(() => connect(host), limits);
      pools.set(host.name, pool);
    }
    return pool;
  };

  return {
    async exec(hostName: string, command: string, execOptions: ExecOptions = {}): Promise<ExecResult> {
      const started = Date.now();
      if (closed) throw new CapabilityError("failed", "the SSH capability is closed");
      checkCommand(command);
      const host = inventory.get(hostName);
      if (!host) throw new CapabilityError("unknown_host", `unknown host "${hostName}"`);
      const timeoutMs = execOptions.timeoutMs ?? commandTimeoutMs;
      if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
        throw new CapabilityError("invalid_argument", "timeoutMs must be a positive number");

      const scope = callScope(`command on ${host.name}`, timeoutMs, execOptions.signal);
      try {
        const pool = poolFor(host);
        // One retry, only when the command provably never reached the server: a pooled
        // connection that died while idle is replaced without the caller noticing.
        for (let attempt = 1; ; attempt++) {
          const lease = await pool.acquire(scope.signal);
          try {
            const result = await runCommand(lease.connection, command, {
              signal: scope.signal,
              capBytes: outputCapBytes,
              onOutput: execOptions.onOutput,
            });
            lease.release();
            return { ...result, durationMs: Date.now() - started };
          } catch (e) {
            lease.discard();
            if (e instanceof CommandNotStartedError) {
              if (attempt === 1) continue;
              throw new CapabilityError("connect_failed", e.message, { cause: e });
            }
            if (e instanceof CapabilityError) throw e;
            throw new CapabilityError("failed", (e as Error).message, { cause: e });
          }
        }
      } finally {
        scope.dispose();
      }
    },

    openConnections: (host) => pools.get(host)?.size() ?? 0,

    async close() {
      closed = true;
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}

function checkCommand(command: unknown): asserts command is string {
  if (typeof command !== "string" || command.trim() === "")
    throw new CapabilityError("invalid_argument", "command must be a non-empty string");
  if (command.includes("\0")) throw new CapabilityError("invalid_argument", "command contains a NUL byte");
  if (Buffer.byteLength(command) > MAX_COMMAND_BYTES)
    throw new CapabilityError("invalid_argument", `command is longer than ${MAX_COMMAND_BYTES} bytes`);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}
