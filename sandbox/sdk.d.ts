/**
 * The SDK every flow imports. It is the whole of what a flow can do: each capability call
 * goes through the host's bridge, which validates it and checks it against the hosts the
 * flow was approved for. Flows run in an isolate with no Node APIs, no network, no timers
 * and no clock: `Date.now()`, `new Date()` and `Math.random()` throw, so that a replayed run
 * takes the same path. Use `sleep` to wait.
 *
 * Outcome rule, used by the helpers below and by generated flows:
 * - a command's result "succeeded" when it exits 0 and "failed" otherwise — a non-zero exit
 *   is data, returned to the flow, never thrown;
 * - a capability error (host unreachable, denied, timed out) is thrown: the step records it
 *   as "failed" / "timed_out" / "cancelled";
 * - whether a failure fails the flow is the flow's decision (`requireSuccess`, `fail`).
 */
declare module "intentflow:sdk" {
  // ── flows ────────────────────────────────────────────────────────────────────────────

  export type ParamType = "string" | "number" | "boolean" | "hosts";
  export type ParamSpec =
    ParamType | { type: ParamType; default?: ParamValue<ParamType>; description?: string };
  export type ParamValue<T extends ParamType> = T extends "string"
    ? string
    : T extends "number"
      ? number
      : T extends "boolean"
        ? boolean
        : readonly string[];
  type TypeOfSpec<S> = S extends ParamType ? S : S extends { type: infer T extends ParamType } ? T : never;
  export type ParamsOf<P extends Record<string, ParamSpec>> = {
    readonly [K in keyof P]: ParamValue<TypeOfSpec<P[K]>>;
  };

  export interface FlowMeta<P extends Record<string, ParamSpec>> {
    name: string;
    /** Parameters the run supplies; a missing one takes its default, or the run fails. */
    params?: P;
  }
  export interface FlowContext<P> {
    readonly params: P;
  }
  /** What defineFlow returns: the module's default export. */
  export interface Flow {
    readonly name: string;
  }
  export function defineFlow<const P extends Record<string, ParamSpec> = Record<never, never>>(
    meta: FlowMeta<P>,
    fn: (ctx: FlowContext<ParamsOf<P>>) => Promise<unknown>,
  ): Flow;

  // ── steps ────────────────────────────────────────────────────────────────────────────

  export interface RetryOptions {
    /** Total tries, 1–20. */
    attempts: number;
    /** Wait before the second try; later waits grow by `factor`. */
    backoffMs: number;
    /** Default 2. */
    factor?: number;
  }
  export interface StepOptions {
    /** The host this step is about: (id, host) is the identity the run records. */
    host?: string;
    /** Retries a try that threw a retryable error or returned a non-zero exit. */
    retry?: RetryOptions;
    /** Bounds each capability call made in the step. */
    timeoutMs?: number;
  }
  /** The step's own handles: calls through them belong to the step even after an `await`. */
  export interface StepContext {
    readonly id: string;
    readonly host: string | null;
    readonly attempt: number;
    readonly ssh: Ssh;
    readonly powershell: PowerShell;
    readonly http: Http;
    readonly net: Net;
    notify(channel: string, message: string): Promise<void>;
    sleep(ms: number): Promise<void>;
    log(message: string, level?: LogLevel): Promise<void>;
  }
  /**
   * A recorded unit of work. Capability calls made by `fn` before its first `await` belong to
   * the step (for more, use the StepContext argument). Resolves with `fn`'s value, also when
   * that value is a command that exited non-zero (recorded "failed" after the retries);
   * rejects when `fn` throws (after the retries).
   */
  export function step<T>(id: string, options: StepOptions, fn: (ctx: StepContext) => Promise<T>): Promise<T>;

  export interface Skipped {
    readonly skipped: true;
    readonly reason: string;
  }
  /** Records the step as skipped (for `options.host`) without running it. */
  export function skip(id: string, options: { host?: string }, reason: string): Promise<Skipped>;

  // ── concurrency ──────────────────────────────────────────────────────────────────────

  export type Settled<T> =
    { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };
  export function settle<T>(fn: () => Promise<T>): Promise<Settled<T>>;
  /** Runs fn for every item, at most `concurrency` at once; results in item order, never rejects. */
  export function parallel<T, R>(
    items: readonly T[],
    options: { concurrency: number },
    fn: (item: T, index: number) => Promise<R>,
  ): Promise<Array<[T, Settled<R>]>>;
  /** Waits for every promise, then rejects with the first rejection in array order, if any. */
  export function settleAll(promises: readonly Promise<unknown>[]): Promise<void>;

  // ── outcomes (what generated flows pass between steps) ───────────────────────────────

  export type OutcomeStatus = "succeeded" | "failed" | "skipped" | "timed_out" | "cancelled";
  /** One host's result of a step (host null for a step that ran without a host). */
  export interface Outcome {
    readonly host: string | null;
    readonly status: OutcomeStatus;
    readonly exitCode: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly error: string | null;
  }
  /** parallel() over hosts, each host's result turned into an Outcome. */
  export function forEachHost(
    hosts: readonly string[],
    options: { concurrency: number },
    fn: (host: string) => Promise<unknown>,
  ): Promise<Outcome[]>;
  /** The same for a step that runs once, without a host. */
  export function once(fn: () => Promise<unknown>): Promise<Outcome[]>;
  /**
   * The result on `host`; else the only result when there is exactly one; else a
   * "skipped" outcome with no exit code (the step did not run there).
   */
  export function resultOn(results: readonly Outcome[], host: string | null): Outcome;
  export function anyFailed(results: readonly Outcome[]): boolean;
  /** Throws (failing the flow) when any result failed, timed out or was cancelled. */
  export function requireSuccess(stepId: string, results: readonly Outcome[]): void;

  export type ConditionField = "exitCode" | "stdout" | "status";
  export type ConditionOp = "eq" | "ne" | "gt" | "lt" | "contains" | "not_contains";
  /**
   * A plan condition. `status` compares the outcome status. `exitCode` and `stdout` hold
   * only where the command ran and exited (exitCode not null). stdout is trimmed for
   * eq/ne/gt/lt; gt/lt compare numbers (false when either side is not a number).
   */
  export function holds(
    result: Outcome | ExecResult,
    field: ConditionField,
    op: ConditionOp,
    value: string | number,
  ): boolean;
  /**
   * Runs `action` until `until` holds, `intervalMs` apart, at most
   * floor(timeoutMs / intervalMs) + 1 tries (counted, not clocked: replays are exact).
   * A retryable error counts as a try that did not hold. Throws a timeout when tries run out.
   */
  export function poll<T>(
    action: () => Promise<T>,
    until: (result: T) => boolean,
    options: { intervalMs: number; timeoutMs: number },
  ): Promise<T>;

  // ── capabilities ─────────────────────────────────────────────────────────────────────

  /** A shell command whose interpolated values were single-quoted by `sh`. */
  export interface ShellCommand {
    readonly text: string;
  }
  export type ShellValue = string | number | boolean | ShellCommand | readonly (string | number | boolean)[];
  /**
   * Builds a command: every `${value}` becomes one POSIX single-quoted word (an array becomes
   * one word per element; a ShellCommand is inserted as is). null/undefined, empty arrays and
   * NUL characters are refused.
   */
  export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellCommand;

  export interface ExecResult {
    /** null when the command was killed by a signal. */
    readonly exitCode: number | null;
    readonly signal: string | null;
    readonly stdout: string;
    readonly stderr: string;
    /** true when stdout or stderr was cut at the output cap. */
    readonly truncated: boolean;
  }
  export interface ExecOptions {
    timeoutMs?: number;
  }
  export interface Ssh {
    /** Runs a command on an inventory host. Resolves with non-zero exits; throws on errors. */
    exec(host: string, command: ShellCommand | string, options?: ExecOptions): Promise<ExecResult>;
  }
  export const ssh: Ssh;

  /** A PowerShell script whose interpolated values were quoted by `ps`. */
  export interface PsScript {
    readonly text: string;
  }
  export type PsValue = string | number | boolean | PsScript | readonly (string | number | boolean)[];
  /**
   * Builds a PowerShell script: every `${value}` becomes one verbatim single-quoted string
   * ('' doubles a quote, typographic single quotes too); a boolean becomes $true/$false; an
   * array becomes @('a', 'b'); a PsScript is inserted as is. null/undefined, empty arrays,
   * non-finite numbers and NUL characters are refused.
   */
  export function ps(strings: TemplateStringsArray, ...values: PsValue[]): PsScript;
  export interface PsResult extends ExecResult {
    /** stdout parsed as JSON when the script printed JSON (e.g. `| ConvertTo-Json`), else null. */
    readonly data: unknown;
  }
  export interface PowerShell {
    /** Runs a script on an inventory host (PowerShell over SSH). Resolves with non-zero exits. */
    run(host: string, script: PsScript | string, options?: ExecOptions): Promise<PsResult>;
  }
  export const powershell: PowerShell;

  export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  export interface HttpRequest {
    /**
     * The inventory host the request is for: the request must then be approved for that host.
     * Leave it out only for a URL outside the inventory (the host side decides whether to allow it).
     */
    host?: string;
    method: HttpMethod;
    url: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  }
  export interface HttpResponse {
    /** Any status is returned, 4xx and 5xx included; network errors throw. */
    readonly status: number;
    readonly headers: [string, string][];
    readonly body: string;
    /** true when the body was cut at the output cap. */
    readonly truncated: boolean;
  }
  export interface Http {
    request(options: HttpRequest): Promise<HttpResponse>;
  }
  export const http: Http;
  /** Builds a URL: every `${value}` is percent-encoded (encodeURIComponent). */
  export function uri(strings: TemplateStringsArray, ...values: (string | number | boolean)[]): string;

  export interface TcpResult {
    readonly ok: boolean;
    readonly latencyMs: number | null;
    readonly error: string | null;
  }
  export interface PingResult extends TcpResult {
    /** "tcp" when ICMP was not available and a TCP connect was used instead. */
    readonly method: "icmp" | "tcp";
  }
  export interface Net {
    /** Opens (and closes) a TCP connection to host:port from the service's side. Never throws for a refused port. */
    tcp(host: string, port: number, options?: { timeoutMs?: number }): Promise<TcpResult>;
    dns(host: string, options?: { type?: "A" | "AAAA" | "ANY" }): Promise<{ readonly addresses: string[] }>;
    ping(host: string, options?: { timeoutMs?: number }): Promise<PingResult>;
  }
  export const net: Net;

  /** Sends a message to a configured notification channel. */
  export function notify(channel: string, message: string): Promise<void>;

  export type LogLevel = "info" | "warn" | "error";
  export function log(message: string, level?: LogLevel): Promise<void>;
  /** Waits on the host side (the isolate has no timers). */
  export function sleep(ms: number): Promise<void>;
  /** Fails the current step (not retried), or the flow when called outside a step. */
  export function fail(message: string): never;
}
