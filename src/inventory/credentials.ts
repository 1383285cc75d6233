import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { CredentialRef, Credentials } from "./types";

/**
 * Turns a credential reference into secrets, at the moment they are needed, so a rotated
 * password or key takes effect on the next connection and nothing secret lives in the
 * inventory object. Errors name the variable or file, never what it holds.
 */

export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

/** A cap far above any real key or password: a mistyped path to a large file fails fast. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type CredentialSources = {
  env: NodeJS.ProcessEnv;
  /** Where relative file paths start from (the inventory file's directory). */
  baseDir: string;
};

export async function resolveCredentials(
  host: string,
  ref: CredentialRef,
  sources: CredentialSources,
): Promise<Credentials> {
  const out: Credentials = {};
  if (ref.passwordEnv) out.password = fromEnv(host, "passwordEnv", ref.passwordEnv, sources.env);
  if (ref.passwordFile)
    out.password = stripFinalNewline(await fromFile(host, "passwordFile", ref.passwordFile, sources.baseDir));
  if (ref.privateKeyEnv) out.privateKey = fromEnv(host, "privateKeyEnv", ref.privateKeyEnv, sources.env);
  if (ref.privateKeyFile)
    out.privateKey = await fromFile(host, "privateKeyFile", ref.privateKeyFile, sources.baseDir);
  if (ref.passphraseEnv) out.passphrase = fromEnv(host, "passphraseEnv", ref.passphraseEnv, sources.env);
  if (out.password === undefined && out.privateKey === undefined)
    throw new CredentialError(
      `host ${host}: no credential configured (set credential.passwordEnv, passwordFile, privateKeyFile or privateKeyEnv)`,
    );
  return out;
}

function fromEnv(host: string, field: string, name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value === "")
    throw new CredentialError(`host ${host}: environment variable ${name} (credential.${field}) is not set`);
  return value;
}

async function fromFile(host: string, field: string, file: string, baseDir: string): Promise<string> {
  const path = expandPath(file, baseDir);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    // Only the errno code: it says what went wrong without quoting anything read.
    const code = (e as NodeJS.ErrnoException).code ?? "read error";
    throw new CredentialError(`host ${host}: cannot read credential.${field} "${path}" (${code})`);
  }
  if (data.length > MAX_SECRET_FILE_BYTES)
    throw new CredentialError(
      `host ${host}: credential.${field} "${path}" is larger than ${MAX_SECRET_FILE_BYTES} bytes`,
    );
  if (data.length === 0) throw new CredentialError(`host ${host}: credential.${field} "${path}" is empty`);
  return data.toString("utf8");
}

/** `~/x` is the user's home; relative paths are relative to the inventory file. */
export function expandPath(file: string, baseDir: string): string {
  if (file === "~") return homedir();
  if (file.startsWith("~/")) return resolve(homedir(), file.slice(2));
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

/** Password files usually end with the newline an editor added; it is not part of the password. */
function stripFinalNewline(s: string): string {
  return s.replace(/\r?\n$/, "");
}
