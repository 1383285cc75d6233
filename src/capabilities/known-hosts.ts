import { createHmac } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { fingerprint } from "./host-key";

/**
 * An OpenSSH known_hosts file: host patterns (plain, `[addr]:port`, comma lists, hashed
 * `|1|salt|hash`), key type and base64 key per line. Read once at start; keys pinned on
 * first use are appended, so a restart trusts the same key and not whatever answers next.
 * `@revoked` lines refuse a key; `@cert-authority` lines and negated patterns are skipped.
 */

type Entry = { patterns: string[]; hashed: { salt: Buffer; hash: Buffer } | null; fingerprint: string };

export class KnownHosts {
  private readonly entries: Entry[] = [];
  private readonly revoked = new Set<string>();

  constructor(readonly file: string) {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, "utf8").split(/\r?\n/)) this.parseLine(line);
  }

  /** Fingerprints known for this address and port; empty when the file does not know the host. */
  lookup(address: string, port: number): string[] {
    const name = port === 22 ? address : `[${address}]:${port}`;
    return this.entries.filter((e) => matches(e, name)).map((e) => e.fingerprint);
  }

  isRevoked(fp: string): boolean {
    return this.revoked.has(fp);
  }

  /** Records a key pinned on first use, in the file and in memory. */
  add(address: string, port: number, keyType: string, blob: Buffer): void {
    const name = port === 22 ? address : `[${address}]:${port}`;
    appendFileSync(this.file, `${name} ${keyType} ${blob.toString("base64")}\n`, { mode: 0o600 });
    this.entries.push({ patterns: [name], hashed: null, fingerprint: fingerprint(blob) });
  }

  private parseLine(raw: string): void {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: string | null = null;
    if (fields[0]!.startsWith("@")) marker = fields.shift()!;
    const [hosts, , key] = fields;
    if (!hosts || !key || marker === "@cert-authority") return;
    const blob = Buffer.from(key, "base64");
    if (blob.length === 0) return;
    const fp = fingerprint(blob);
    if (marker === "@revoked") {
      this.revoked.add(fp);
      return;
    }
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      if (salt && hash)
        this.entries.push({
          patterns: [],
          hashed: { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") },
          fingerprint: fp,
        });
      return;
    }
    this.entries.push({ patterns: hosts.split(","), hashed: null, fingerprint: fp });
  }
}

function matches(entry: Entry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac("sha1", entry.hashed.salt).update(name).digest();
    return digest.equals(entry.hashed.hash);
  }
  return entry.patterns.some((p) => !p.startsWith("!") && globMatch(p, name));
}

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}
