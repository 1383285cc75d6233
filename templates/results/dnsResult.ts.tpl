/** A DNS lookup as a step result: exit code 0 when it found addresses (stdout: one per line). */
function dnsResult(lookup: { addresses: string[] }) {
  return {
    exitCode: lookup.addresses.length ? 0 : 1,
    signal: null,
    stdout: lookup.addresses.join("\n"),
    stderr: lookup.addresses.length ? "" : "no addresses found",
    truncated: false,
  };
}
