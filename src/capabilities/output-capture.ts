import { StringDecoder } from "node:string_decoder";
import type { OutputStream } from "./types";

/**
 * Collects a command's stdout and stderr up to a byte cap each, decoding UTF-8 across chunk
 * boundaries, and forwards what it keeps to a live listener. Output past the cap is counted
 * out, not buffered: a runaway `cat` cannot exhaust the service's memory.
 */
export class OutputCapture {
  private readonly streams = { stdout: new StreamBuffer(), stderr: new StreamBuffer() };

  constructor(
    private readonly capBytes: number,
    private readonly onOutput?: (stream: OutputStream, chunk: string) => void,
  ) {}

  push(stream: OutputStream, chunk: Buffer): void {
    const text = this.streams[stream].append(chunk, this.capBytes);
    if (text && this.onOutput) {
      try {
        this.onOutput(stream, text);
      } catch {
        // A failing log listener must not fail the command it is watching.
      }
    }
  }

  result(): { stdout: string; stderr: string; truncated: boolean } {
    return {
      stdout: this.streams.stdout.finish(),
      stderr: this.streams.stderr.finish(),
      truncated: this.streams.stdout.truncated || this.streams.stderr.truncated,
    };
  }
}

class StreamBuffer {
  private readonly decoder = new StringDecoder("utf8");
  private readonly parts: string[] = [];
  private bytes = 0;
  truncated = false;

  /** Returns the newly kept text. */
  append(chunk: Buffer, cap: number): string {
    if (this.truncated) return "";
    const room = cap - this.bytes;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.bytes += kept.length;
    const text = this.decoder.write(kept);
    if (text) this.parts.push(text);
    return text;
  }

  finish(): string {
    // A multi-byte character cut by the cap is dropped rather than rendered as U+FFFD.
    if (!this.truncated) {
      const rest = this.decoder.end();
      if (rest) this.parts.push(rest);
    }
    return this.parts.join("");
  }
}
