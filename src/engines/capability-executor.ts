import type { AnyCall, CallResults } from "../capabilities/calls";
import { HOST_CALLS } from "../capabilities/calls";
import type { Capabilities } from "../capabilities/index";
import { type CommandPolicy, createCommandPolicy } from "../capabilities/command-policy";
import {
  CapabilityError,
  type ExecResult,
  type OutputStream,
  type SshCapability,
} from "../capabilities/types";
import type { Store } from "../store/types";

/**
 * The engines' single door to capabilities. Both engines call execute(): it checks the
 * call against the run's approved hosts and the command policy, runs it at most once per
 * journal key (a replayed or resumed run gets the recorded result), and streams command
 * output to the run's log as it arrives.
 */

/** Any call in calls.ts; engines build them, the sandbox bridge parses them. */
export type EngineCall = AnyCall;
export type SshExecCall = Extract<AnyCall, { name: "ssh.exec" }>;
export type SleepCall = Extract<AnyCall, { name: "sleep" }>;
export type LogCall = Extract<AnyCall, { name: "log" }>;

export type CallScope = {
  runId: string;
  /** Deterministic per run: the same call in a replay has the same key. */
  key: string;
  stepId: string | null;
  host: string | null;
  approvedHosts: ReadonlySet<string>;
  signal?: AbortSignal;
};

export type CapabilityExecutorDeps = {
  store: Store;
  /** All capabilities (createCapabilities); without them only ssh.exec, sleep, log and notify work. */
  capabilities?: Capabilities;
  /** The SSH capability alone, when `capabilities` is not given. */
  ssh?: SshCapability;
  /** Cap on one command when the step gives none. */
  defaultCommandTimeoutMs?: number;
  /** Output lines copied into the run log per call (default 500); the full output is in the result. */
  maxLogLinesPerCall?: number;
};

export class CapabilityExecutor {
  private readonly policy: CommandPolicy;

  constructor(private readonly deps: CapabilityExecutorDeps) {
    this.policy = deps.capabilities?.policy ?? createCommandPolicy();
  }

  async execute(call: EngineCall, scope: CallScope): Promise<unknown> {
    if (call.name === "log") return this.log(call.args.level, call.args.message, scope);
    const recorded = await this.deps.store.getJournal(scope.runId, scope.key);
    if (recorded) return recorded.result;
    const result = await this.perform(call, scope);
    await this.deps.store.putJournal({
      runId: scope.runId,
      key: scope.key,
      result,
      createdAt: new Date().toISOString(),
    });
    return result;
  }

  private async perform(call: Exclude<EngineCall, LogCall>, scope: CallScope): Promise<unknown> {
    this.checkHost(call, scope);
    switch (call.name) {
      case "sleep":
        return sleep(call.args.ms, scope.signal);
      case "notify":
        await this.log("info", `notify [${call.args.channel}] ${call.args.message}`, scope);
        await this.caps("notify").notify.send(
          call.args.channel,
          call.args.message,
          { runId: scope.runId, stepId: scope.stepId },
          scope.signal,
        );
        return null;
      case "ssh.exec":
        return this.sshExec(call.args, scope);
      case "powershell.run":
        return this.powershell(call.args, scope);
      case "http.request":
        return this.caps("http.request").http.request(call.args, scope.signal);
      case "net.tcp":
        return this.caps("net.tcp").net.tcp(call.args.host, call.args.port, call.args.timeoutMs);
      case "net.dns":
        return this.caps("net.dns").net.dns(call.args.host, call.args.type);
      case "net.ping":
        return this.caps("net.ping").net.ping(call.args.host, call.args.timeoutMs);
    }
  }

  private checkHost(call: Exclude<EngineCall, LogCall>, scope: CallScope): void {
    const host =
      HOST_CALLS.has(call.name) || call.name === "http.request"
        ? (call.args as { host: string | null }).host
        : null;
    if (host !== null && !scope.approvedHosts.has(host))
      throw new CapabilityError("denied", `host "${host}" is not among the hosts this flow was approved for`);
  }

  private async sshExec(args: SshExecCall["args"], scope: CallScope): Promise<CallResults["ssh.exec"]> {
    const verdict = this.policy.classify(args.command);
    if (verdict.class === "denied")
      throw new CapabilityError("denied", `command refused by policy: ${verdict.reason}`);
    const ssh = this.deps.capabilities?.ssh ?? this.deps.ssh;
    if (!ssh) throw new CapabilityError("failed", "no SSH capability is configured");
    await this.log("info", `$ ${args.command}`, scope);
    const result = await this.streamed(scope, (onOutput) =>
      ssh.exec(args.host, args.command, {
        timeoutMs: this.timeout(args.timeoutMs),
        signal: scope.signal,
        onOutput,
      }),
    );
    return outcome(result);
  }

  private async powershell(
    args: Extract<AnyCall, { name: "powershell.run" }>["args"],
    scope: CallScope,
  ): Promise<CallResults["powershell.run"]> {
    const verdict = this.policy.classifyPowerShell(args.script);
    if (verdict.class === "denied")
      throw new CapabilityError("denied", `script refused by policy: ${verdict.reason}`);
    const ps = this.caps("powershell.run").powershell;
    await this.log("info", `PS> ${args.script}`, scope);
    const result = await this.streamed(scope, (onOutput) =>
      ps.run(args.host, args.script, {
        timeoutMs: this.timeout(args.timeoutMs),
        signal: scope.signal,
        onOutput,
      }),
    );
    return { ...outcome(result), data: result.data };
  }

  /** Runs `fn` with an onOutput that copies whole lines into the run log, in order, up to a cap. */
  private async streamed<R>(
    scope: CallScope,
    fn: (onOutput: (stream: OutputStream, chunk: string) => void) => Promise<R>,
  ): Promise<R> {
    const partial: Record<OutputStream, string> = { stdout: "", stderr: "" };
    let budget = this.deps.maxLogLinesPerCall ?? 500;
    let writes = Promise.resolve();
    const emit = (stream: OutputStream, line: string) => {
      if (budget-- <= 0) return;
      const message = budget === 0 ? "(further output is in the step result only)" : line;
      const level = stream === "stderr" ? "warn" : "info";
      writes = writes
        .then(() => this.log(level, message, scope))
        .then(
          () => undefined,
          () => undefined,
        );
    };
    const onOutput = (stream: OutputStream, chunk: string) => {
      const lines = (partial[stream] + chunk).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const line of lines) emit(stream, line);
    };
    try {
      return await fn(onOutput);
    } finally {
      for (const stream of ["stdout", "stderr"] as const) if (partial[stream]) emit(stream, partial[stream]);
      await writes;
    }
  }

  private timeout(ms: number | null): number {
    return ms ?? this.deps.defaultCommandTimeoutMs ?? 300_000;
  }

  private caps(name: string): Capabilities {
    if (!this.deps.capabilities)
      throw new CapabilityError(
        "failed",
        `${name} is not available: the service was built without capabilities`,
      );
    return this.deps.capabilities;
  }

  private async log(level: LogCall["args"]["level"], message: string, scope: CallScope): Promise<null> {
    await this.deps.store.appendLog({
      runId: scope.runId,
      at: new Date().toISOString(),
      level,
      stepId: scope.stepId,
      host: scope.host,
      message: message.slice(0, 10_000),
    });
    return null;
  }
}

function outcome(result: ExecResult): CallResults["ssh.exec"] {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.truncated,
  };
}

/**
 * Waits `ms`, or until the signal aborts. A zero wait only yields to the event loop: Node
 * turns setTimeout(0) into a 1 ms timer, which fires after 1–1.3 ms, so a flow's `sleep(0)`
 * would otherwise cost more than the journaling around it.
 */
function sleep(ms: number, signal?: AbortSignal): Promise<null> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CapabilityError("cancelled", "cancelled"));
    const cancelled = () => {
      cancel();
      reject(new CapabilityError("cancelled", "cancelled"));
    };
    const done = () => {
      signal?.removeEventListener("abort", cancelled);
      resolve(null);
    };
    let cancel: () => void;
    if (ms <= 0) {
      const t = setImmediate(done);
      cancel = () => clearImmediate(t);
    } else {
      const t = setTimeout(done, ms);
      cancel = () => clearTimeout(t);
    }
    signal?.addEventListener("abort", cancelled, { once: true });
  });
}
