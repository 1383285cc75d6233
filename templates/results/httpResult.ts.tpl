/**
 * An HTTP response as a step result: exit code 0 when the status is the expected one (any
 * 2xx or 3xx when the plan expects none), otherwise the HTTP status itself; stdout is the body.
 */
function httpResult(response: { status: number; body: string }, expectStatus?: number) {
  const ok =
    expectStatus === undefined
      ? response.status >= 200 && response.status < 400
      : response.status === expectStatus;
  return {
    exitCode: ok ? 0 : response.status,
    signal: null,
    stdout: response.body,
    stderr: ok ? "" : `HTTP ${response.status}`,
    truncated: false,
  };
}
