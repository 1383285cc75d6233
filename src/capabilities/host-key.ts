import { createHash } from "node:crypto";
import type { Host } from "../inventory/types";

/**
 * Host-key checking. The inventory pins each host's key by fingerprint; a host without a pin
 * is refused unless it opts into trust-on-first-use, whose pins live in memory only (a
 * restart trusts afresh, which is the documented price of not pinning).
 */

/** OpenSSH's notation: "SHA256:" + unpadded base64 of the SHA-256 of the public key blob. */
export function fingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}

export type HostKeyCheck = {
  /** ssh2's synchronous hostVerifier. */
  verify(publicKeyBlob: Buffer): boolean;
  /** Why the last offered key was refused, if it was. */
  refusal(): string | undefined;
};

/** Fingerprints pinned on first use, by host name, for the life of one capability. */
export type FirstUsePins = Map<string, string>;

export function hostKeyCheck(host: Host, firstUse: FirstUsePins): HostKeyCheck {
  let refusal: string | undefined;
  const refuse = (why: string) => {
    refusal = why;
    return false;
  };
  return {
    refusal: () => refusal,
    verify(blob) {
      const seen = fingerprint(blob);
      const pinned = host.hostKey ?? firstUse.get(host.name);
      if (pinned) {
        if (pinned === seen) return true;
        return refuse(
          `host key for ${host.name} does not match: expected ${pinned}, server offered ${seen} ` +
            "(the machine was reinstalled, or someone is intercepting the connection)",
        );
      }
      if (!host.trustOnFirstUse)
        return refuse(
          `host ${host.name} has no pinned host key and trustOnFirstUse is off; server offered ${seen} ` +
            "(verify it and set hostKey in the inventory)",
        );
      firstUse.set(host.name, seen);
      return true;
    },
  };
}
