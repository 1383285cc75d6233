/**
 * Hosts as the rest of intentflow sees them. The planner and plans only ever see names,
 * groups and tags; addresses and credentials are read only by capabilities.
 */

export type CredentialRef = {
  /** Environment variable holding a password. */
  passwordEnv?: string;
  /** File holding a password. */
  passwordFile?: string;
  /** File holding a private key (OpenSSH or PEM). */
  privateKeyFile?: string;
  /** Environment variable holding a private key. */
  privateKeyEnv?: string;
  /** Environment variable holding the private key's passphrase. */
  passphraseEnv?: string;
};

export type Host = {
  name: string;
  address: string;
  port: number;
  user: string;
  groups: string[];
  tags: string[];
  credential: CredentialRef;
  /** Pinned host key: "SHA256:<base64>" fingerprint. Absent = refuse unless trustOnFirstUse. */
  hostKey?: string;
  trustOnFirstUse?: boolean;
  /** "linux" (default) or "windows": which shell commands are written for. */
  os: "linux" | "windows";
};

/** Secrets resolved on the host side, just before they are used; never stored or logged. */
export type Credentials = { password?: string; privateKey?: string; passphrase?: string };

export class UnknownHostError extends Error {
  constructor(
    readonly selector: string,
    readonly known: string[],
  ) {
    super(`unknown host or selector "${selector}"; known hosts: ${known.join(", ") || "(none)"}`);
    this.name = "UnknownHostError";
  }
}

export interface Inventory {
  hosts(): Host[];
  get(name: string): Host | undefined;
  /** Expands selectors (`web1`, `group:web`, `tag:prod`, `web[1-5]`) to host names, in order, deduplicated. */
  resolve(selectors: readonly string[]): string[];
  /** What the planner may see: names, groups, tags. */
  describe(): {
    hosts: { name: string; groups: string[]; tags: string[]; os: string }[];
    groups: string[];
    tags: string[];
  };
  credentials(name: string): Promise<Credentials>;
}
