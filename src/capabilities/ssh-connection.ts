import ssh2, { type Client, type ConnectConfig } from "ssh2";
import type { Credentials, Host } from "../inventory/types";
import type { HostKeyCheck } from "./host-key";
import { redactSecrets } from "./redact";
import { CapabilityError } from "./types";

// ssh2 is CommonJS and Node's ESM loader cannot see its named exports: take them off the default.
const { Client: SshClient } = ssh2;

/**
 * Opening one authenticated SSH connection, and classifying why it failed into the codes
 * engines act on. Error text is built from the host name and ssh2's reason, with every
 * secret of this connection cut out as a last line of defence.
 */

export type ConnectSettings = {
  connectTimeoutMs: number;
  keepaliveMs: number;
  keepaliveCountMax: number;
};

/** A live connection; `alive` turns false once the socket closes, for whatever reason. */
export class SshConnection {
  alive = true;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    readonly host: string,
    readonly client: Client,
  ) {
    const dead = () => {
      if (!this.alive) return;
      this.alive = false;
      for (const listener of this.closeListeners.splice(0)) listener();
    };
    // Commands are small request/response exchanges: Nagle's algorithm would add ~40 ms to each.
    client.setNoDelay(true);
    client.on("close", dead);
    client.on("end", dead);
    // Keepalive timeouts and socket resets arrive as 'error'; without a listener they would crash the process.
    client.on("error", dead);
  }

  onClose(listener: () => void): void {
    if (this.alive) this.closeListeners.push(listener);
    else listener();
  }

  end(): void {
    this.alive = false;
    this.client.end();
    // end() waits for the server's goodbye; a hung server must not keep the socket forever.
    setTimeout(() => this.client.destroy(), 2000).unref();
  }
}

export function openConnection(
  host: Host,
  credentials: Credentials,
  check: HostKeyCheck,
  settings: ConnectSettings,
): Promise<SshConnection> {
  const secrets = [credentials.password, credentials.privateKey, credentials.passphrase];
  const fail = (code: "connect_failed" | "auth_failed" | "host_key_mismatch", message: string) =>
    new CapabilityError(code, redactSecrets(message, secrets));

  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let settled = false;
    const settle = (error: CapabilityError | null) => {
      if (settled) return;
      settled = true;
      if (error) {
        client.removeAllListeners("ready");
        client.destroy();
        reject(error);
      } else resolve(new SshConnection(host.name, client));
    };

    client.once("ready", () => settle(null));
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      const refusal = check.refusal();
      if (refusal) return settle(fail("host_key_mismatch", refusal));
      settle(classify(host, err, settings, fail));
    });
    client.once("close", () => {
      const refusal = check.refusal();
      settle(
        refusal
          ? fail("host_key_mismatch", refusal)
          : fail("connect_failed", `connection to ${host.name} closed before it was ready`),
      );
    });
    if (credentials.password !== undefined) {
      // Servers that only offer keyboard-interactive still just want the password.
      client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) =>
        finish(prompts.map(() => credentials.password ?? "")),
      );
    }

    const config: ConnectConfig = {
      host: host.address,
      port: host.port,
      username: host.user,
      readyTimeout: settings.connectTimeoutMs,
      keepaliveInterval: settings.keepaliveMs,
      keepaliveCountMax: settings.keepaliveCountMax,
      hostVerifier: (key: Buffer) => check.verify(key),
      tryKeyboard: credentials.password !== undefined,
    };
    if (credentials.password !== undefined) config.password = credentials.password;
    if (credentials.privateKey !== undefined) config.privateKey = credentials.privateKey;
    if (credentials.passphrase !== undefined) config.passphrase = credentials.passphrase;
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 parses the private key synchronously: a wrong passphrase or a broken key ends here.
      settle(fail("auth_failed", `cannot use the private key for ${host.name}: ${(e as Error).message}`));
    }
  });
}

function classify(
  host: Host,
  err: Error & { level?: string; code?: string },
  settings: ConnectSettings,
  fail: (code: "connect_failed" | "auth_failed", message: string) => CapabilityError,
): CapabilityError {
  switch (err.level) {
    case "client-authentication":
      return fail("auth_failed", `authentication as ${host.user} on ${host.name} failed`);
    case "client-timeout":
      return fail(
        "connect_failed",
        `connecting to ${host.name} timed out after ${settings.connectTimeoutMs} ms`,
      );
    case "client-socket":
    case "client-dns":
      return fail("connect_failed", `cannot connect to ${host.name} (${err.code ?? err.message})`);
    default:
      return fail("connect_failed", `SSH handshake with ${host.name} failed: ${err.message}`);
  }
}
