import { createHash } from "node:crypto";
import type { Host } from "../inventory/types";
import type { KnownHosts } from "./known-hosts";

/**
 * Host-key checking, in order: the key pinned in the inventory (`hostKey`), else the keys a
 * known_hosts file lists for the host's address and port, else trust on first use when the
 * inventory allows it for that host. A first-use pin is kept for the life of the capability
 * and, when a known_hosts file is configured, appended to it so a restart keeps it.
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

export function hostKeyCheck(host: Host, firstUse: FirstUsePins, knownHosts?: KnownHosts): HostKeyCheck {
  let refusal: string | undefined;
  const refuse = (why: string) => {
    refusal = why;
    return false;
  };
  const mismatch = (expected: string, seen: string) =>
    refuse(
      `host key for ${host.name} does not match: expected ${expected}, server offered ${seen} ` +
        "(the machine was reinstalled, or someone is intercepting the connection)",
    );
  return {
    refusal: () => refusal,
    verify(blob) {
      const seen = fingerprint(blob);
      if (knownHosts?.isRevoked(seen))
        return refuse(`host key ${seen} of ${host.name} is marked @revoked in ${knownHosts.file}`);
      const pinned = host.hostKey ?? firstUse.get(host.name);
      if (pinned) return pinned === seen || mismatch(pinned, seen);
      const listed = knownHosts?.lookup(host.address, host.port) ?? [];
      if (listed.length) return listed.includes(seen) || mismatch(listed.join(" or "), seen);
      if (!host.trustOnFirstUse)
        return refuse(
          `host ${host.name} has no pinned host key and trustOnFirstUse is off; server offered ${seen} ` +
            "(verify it and set hostKey in the inventory, or list it in the known_hosts file)",
        );
      firstUse.set(host.name, seen);
      knownHosts?.add(host.address, host.port, keyType(blob), blob);
      return true;
    },
  };
}

/** The key type is the first string of the SSH wire-format blob. */
function keyType(blob: Buffer): string {
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return len > 0 && len < 64 ? blob.subarray(4, 4 + len).toString("ascii") : "ssh-ed25519";
}
