import { abortReason } from "./call-scope";
import type { SshConnection } from "./ssh-connection";
import { CapabilityError } from "./types";

/**
 * The connections to one host. A connection carries one command at a time; up to
 * `maxConnections` are open at once and further callers queue in order. Idle connections are
 * reused (most recently used first, so surplus ones age out) and closed after `idleMs`.
 * A connection the server closed is dropped as soon as its socket says so.
 */

export type PoolLimits = { maxConnections: number; idleMs: number };

export type Lease = {
  connection: SshConnection;
  /** Back to the pool for the next command. */
  release(): void;
  /** Close it: after a timeout or a lost connection its state is not worth trusting. */
  discard(): void;
};

type Waiter = { resolve(c: SshConnection): void; reject(e: unknown): void };

export class HostPool {
  private readonly idle: { connection: SshConnection; timer: NodeJS.Timeout }[] = [];
  private readonly busy = new Set<SshConnection>();
  private readonly waiters: Waiter[] = [];
  private connecting = 0;
  private closed = false;

  constructor(
    private readonly open: () => Promise<SshConnection>,
    private readonly limits: PoolLimits,
  ) {}

  async acquire(signal: AbortSignal): Promise<Lease> {
    if (this.closed) throw new CapabilityError("failed", "the SSH capability is closed");
    if (signal.aborted) throw abortReason(signal);
    const connection = await new Promise<SshConnection>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          signal.removeEventListener("abort", onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
    return this.lease(connection);
  }

  /** Open connections, idle and busy: what a test or a status page wants to know. */
  size(): number {
    return this.idle.length + this.busy.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0))
      w.reject(new CapabilityError("failed", "the SSH capability is closed"));
    for (const { connection, timer } of this.idle.splice(0)) {
      clearTimeout(timer);
      connection.end();
    }
    for (const c of this.busy) c.end();
    this.busy.clear();
  }

  private lease(connection: SshConnection): Lease {
    let returned = false;
    const giveBack = (keep: boolean) => {
      if (returned) return;
      returned = true;
      this.busy.delete(connection);
      if (keep && connection.alive && !this.closed) this.park(connection);
      else connection.end();
      this.pump();
    };
    return { connection, release: () => giveBack(true), discard: () => giveBack(false) };
  }

  /** Hands idle connections to waiters, then opens new ones while there is room and demand. */
  private pump(): void {
    while (this.waiters.length > 0 && this.idle.length > 0) {
      const { connection, timer } = this.idle.pop()!;
      clearTimeout(timer);
      if (!connection.alive) continue;
      // Counted as busy now, not when the waiter's promise resumes: otherwise the loop below
      // sees a free slot and opens a connection too many.
      this.busy.add(connection);
      this.waiters.shift()!.resolve(connection);
    }
    while (
      !this.closed &&
      this.waiters.length > this.connecting &&
      this.size() + this.connecting < this.limits.maxConnections
    )
      this.connect();
  }

  private connect(): void {
    this.connecting++;
    this.open().then(
      (connection) => {
        this.connecting--;
        if (this.closed) return connection.end();
        connection.onClose(() => this.forget(connection));
        this.park(connection);
        this.pump();
      },
      (error: unknown) => {
        this.connecting--;
        // The first in line gets the failure; the rest get attempts of their own.
        this.waiters.shift()?.reject(error);
        this.pump();
      },
    );
  }

  private park(connection: SshConnection): void {
    const timer = setTimeout(() => {
      this.forget(connection);
      connection.end();
    }, this.limits.idleMs);
    timer.unref();
    this.idle.push({ connection, timer });
  }

  private forget(connection: SshConnection): void {
    const i = this.idle.findIndex((e) => e.connection === connection);
    if (i >= 0) {
      clearTimeout(this.idle[i]!.timer);
      this.idle.splice(i, 1);
    }
    this.busy.delete(connection);
    this.pump();
  }
}
