import type { ClientChannel } from "ssh2";
import { abortReason } from "./call-scope";
import { OutputCapture } from "./output-capture";
import type { SshConnection } from "./ssh-connection";
import { CapabilityError, type OutputStream } from "./types";

/**
 * Runs one command on one connection. The caller's signal ends it early (timeout or cancel):
 * the remote process is sent TERM where the server honours signal requests, and the channel
 * is closed either way.
 */

/** The channel could not be opened, so the command never reached the server: retrying is safe. */
export class CommandNotStartedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CommandNotStartedError";
  }
}

export type RunOptions = {
  signal: AbortSignal;
  capBytes: number;
  onOutput?: (stream: OutputStream, chunk: string) => void;
};

export type RunResult = {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
};

/** ssh2's errors for a channel that was never opened; "Unable to exec" may mean it ran. */
const NOT_STARTED =
  /^(Not connected|No response from server|Channel is not open|\(SSH\) Channel open failure)/;

export function runCommand(conn: SshConnection, command: string, options: RunOptions): Promise<RunResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(abortReason(signal));

  return new Promise((resolve, reject) => {
    const capture = new OutputCapture(options.capBytes, options.onOutput);
    let channel: ClientChannel | undefined;
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const onAbort = () =>
      finish(() => {
        if (channel) stopRemote(channel);
        reject(abortReason(signal));
      });
    signal.addEventListener("abort", onAbort, { once: true });

    const onChannel = (err: Error | undefined, ch: ClientChannel) => {
      if (err) {
        const notStarted = NOT_STARTED.test(err.message);
        return finish(() =>
          reject(
            notStarted
              ? new CommandNotStartedError(`could not open a channel to ${conn.host}: ${err.message}`)
              : new CapabilityError("failed", `${conn.host} refused to run the command: ${err.message}`),
          ),
        );
      }
      if (done) return stopRemote(ch); // aborted while the channel was opening
      channel = ch;
      ch.on("data", (chunk: Buffer) => capture.push("stdout", chunk));
      ch.stderr.on("data", (chunk: Buffer) => capture.push("stderr", chunk));
      ch.on("close", (code?: number | null, signalName?: string) => {
        finish(() => {
          const exitCode = typeof code === "number" ? code : null;
          const exitSignal = signalName ? normaliseSignal(signalName) : null;
          if (exitCode === null && exitSignal === null && !conn.alive)
            return reject(
              new CapabilityError("failed", `connection to ${conn.host} was lost while the command ran`),
            );
          resolve({ exitCode, signal: exitSignal, ...capture.result() });
        });
      });
      // Nothing is sent on stdin: an immediate EOF keeps commands that read it from hanging.
      ch.end();
    };

    try {
      conn.client.exec(command, onChannel);
    } catch (e) {
      finish(() => reject(new CommandNotStartedError(`${conn.host}: ${(e as Error).message}`, { cause: e })));
    }
  });
}

function stopRemote(channel: ClientChannel): void {
  try {
    channel.signal("TERM");
  } catch {
    // The channel may already be closing; closing it below is what matters.
  }
  channel.close();
}

/** SSH names signals without the prefix ("TERM"); Node and the rest of intentflow say "SIGTERM". */
function normaliseSignal(name: string): string {
  return name.startsWith("SIG") ? name : `SIG${name}`;
}
