/**
 * Cuts known secret values out of a message. Messages are built not to contain secrets in
 * the first place; this catches the case where a library quotes one back.
 */
export function redactSecrets(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; a 1-3 character secret is not worth hiding anyway.
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}
