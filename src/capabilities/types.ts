/**
 * The contract every way out of a flow goes through. Engines and the sandbox bridge call
 * these; implementations live beside this file (ssh.ts, ...). Host names here are inventory
 * names, never addresses: resolution and credentials stay inside the capability.
 */

export type OutputStream = "stdout" | "stderr";

export type ExecResult = {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** true when stdout or stderr was cut at the output cap */
  truncated: boolean;
};

export type ExecOptions = {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called as output arrives, for live run logs. */
  onOutput?: (stream: OutputStream, chunk: string) => void;
};

export interface SshCapability {
  exec(host: string, command: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export type CapabilityErrorCode =
  | "unknown_host"
  | "connect_failed"
  | "auth_failed"
  | "host_key_mismatch"
  | "timeout"
  | "cancelled"
  | "denied"
  | "invalid_argument"
  | "failed";

/** An error the engines act on: the code says whether retrying can help. */
export class CapabilityError extends Error {
  constructor(
    readonly code: CapabilityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CapabilityError";
  }

  get retryable(): boolean {
    return this.code === "connect_failed" || this.code === "timeout" || this.code === "failed";
  }
}
