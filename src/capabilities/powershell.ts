import type { Inventory } from "../inventory/types";
import { CapabilityError, type ExecOptions, type ExecResult, type SshCapability } from "./types";

/**
 * PowerShell over SSH. The script travels as `-EncodedCommand`: base64 of its UTF-16LE
 * text, which has no character a shell (cmd.exe or sh) treats specially, so nothing in the
 * script can break out of its quoting. Windows hosts run `powershell.exe`; Linux hosts `pwsh`.
 * When stdout is JSON (e.g. the script ends in `| ConvertTo-Json`), `data` holds it parsed.
 */

export type PowerShellResult = ExecResult & { data: unknown };

export interface PowerShellCapability {
  run(host: string, script: string, options?: ExecOptions): Promise<PowerShellResult>;
}

/** Progress bars arrive as CLIXML on stderr over SSH; errors should stop the script, not scroll by. */
const PRELUDE = "$ProgressPreference = 'SilentlyContinue'; $ErrorActionPreference = 'Stop'\n";

/** Windows' command line limit is 32 767 characters; the encoded script must fit in it. */
const MAX_ENCODED = 32_000;

export function encodePowerShell(script: string): string {
  return Buffer.from(PRELUDE + script, "utf16le").toString("base64");
}

export function powerShellCommand(script: string, os: "linux" | "windows"): string {
  const encoded = encodePowerShell(script);
  if (encoded.length > MAX_ENCODED)
    throw new CapabilityError(
      "invalid_argument",
      `PowerShell script is too long once encoded (${encoded.length} > ${MAX_ENCODED} characters)`,
    );
  const exe = os === "windows" ? "powershell.exe" : "pwsh";
  return `${exe} -NoLogo -NoProfile -NonInteractive -EncodedCommand ${encoded}`;
}

export function createPowerShellCapability(deps: {
  ssh: SshCapability;
  inventory: Inventory;
}): PowerShellCapability {
  return {
    async run(hostName, script, options) {
      if (typeof script !== "string" || script.trim() === "")
        throw new CapabilityError("invalid_argument", "script must be a non-empty string");
      const host = deps.inventory.get(hostName);
      if (!host) throw new CapabilityError("unknown_host", `unknown host "${hostName}"`);
      const result = await deps.ssh.exec(hostName, powerShellCommand(script, host.os), options);
      return { ...result, data: parseJson(result.stdout, result.truncated) };
    },
  };
}

function parseJson(stdout: string, truncated: boolean): unknown {
  const text = stdout.replace(/^\uFEFF/, "").trim();
  if (truncated || !/^[[{"]|^(true|false|null|-?\d)/.test(text)) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
