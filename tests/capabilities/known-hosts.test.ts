import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprint, hostKeyCheck } from "../../src/capabilities/host-key";
import { KnownHosts } from "../../src/capabilities/known-hosts";
import type { Host } from "../../src/inventory/types";

const keyA = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), randomBytes(36)]);
const keyB = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), randomBytes(36)]);
const b64 = (k: Buffer) => k.toString("base64");
const host = (over: Partial<Host> = {}): Host => ({
  name: "web1",
  address: "10.0.0.11",
  port: 2222,
  user: "ops",
  groups: [],
  tags: [],
  credential: {},
  os: "linux",
  ...over,
});

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "kh-")), "known_hosts");
  writeFileSync(path, text);
  return path;
}

describe("known_hosts", () => {
  it("matches plain, [addr]:port, comma lists, wildcards and hashed names", () => {
    const salt = randomBytes(20);
    const hashed = createHmac("sha1", salt).update("[10.0.0.12]:2222").digest();
    const kh = new KnownHosts(
      file(
        [
          "# comment",
          `db,10.0.0.10 ssh-ed25519 ${b64(keyA)}`,
          `[10.0.0.11]:2222 ssh-ed25519 ${b64(keyA)} a comment`,
          `|1|${salt.toString("base64")}|${hashed.toString("base64")} ssh-ed25519 ${b64(keyB)}`,
          `*.example.com ssh-ed25519 ${b64(keyB)}`,
          "",
        ].join("\n"),
      ),
    );
    expect(kh.lookup("10.0.0.10", 22)).toEqual([fingerprint(keyA)]);
    expect(kh.lookup("10.0.0.11", 2222)).toEqual([fingerprint(keyA)]);
    expect(kh.lookup("10.0.0.11", 22)).toEqual([]);
    expect(kh.lookup("10.0.0.12", 2222)).toEqual([fingerprint(keyB)]);
    expect(kh.lookup("web.example.com", 22)).toEqual([fingerprint(keyB)]);
  });

  it("verifies against listed keys, refuses others and revoked ones", () => {
    const path = file(`[10.0.0.11]:2222 ssh-ed25519 ${b64(keyA)}\n@revoked * ssh-ed25519 ${b64(keyB)}\n`);
    const kh = new KnownHosts(path);
    expect(hostKeyCheck(host(), new Map(), kh).verify(keyA)).toBe(true);
    const wrong = hostKeyCheck(host({ trustOnFirstUse: true }), new Map(), kh);
    expect(wrong.verify(keyB)).toBe(false);
    expect(wrong.refusal()).toMatch(/@revoked/);
  });

  it("writes a first-use pin, which the next reader then enforces", () => {
    const path = file("");
    const check = hostKeyCheck(host({ trustOnFirstUse: true }), new Map(), new KnownHosts(path));
    expect(check.verify(keyA)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(`[10.0.0.11]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    const later = hostKeyCheck(host(), new Map(), new KnownHosts(path));
    expect(later.verify(keyB)).toBe(false);
    expect(later.refusal()).toMatch(/does not match/);
    expect(later.verify(keyA)).toBe(true);
  });
});
