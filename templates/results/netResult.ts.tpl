/**
 * A TCP or ping check as a step result: exit code 0 when the host answered (stdout: the
 * latency in milliseconds), 1 when it did not (stderr: why).
 */
function netResult(check: { ok: boolean; latencyMs: number | null; error: string | null }) {
  return {
    exitCode: check.ok ? 0 : 1,
    signal: null,
    stdout: check.latencyMs === null ? "" : String(check.latencyMs),
    stderr: check.error ?? "",
    truncated: false,
  };
}
