import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

/**
 * The service in a child process, so a test can `kill -9` it while the simulated hosts (and
 * the test) live on in this process and see exactly which commands arrived.
 */
export type ServiceProcess = {
  base: string;
  child: ChildProcess;
  /** stderr and stdout so far, for failure messages. */
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
};

const ROOT = join(import.meta.dirname, "..", "..");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startServiceProcess(
  env: Record<string, string>,
  args: string[] = ["serve"],
): Promise<ServiceProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", "src/cli.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", LLM_PROVIDER: "offline", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (out += String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  if (args[0] === "serve") {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited at start:\n${out}`);
      try {
        if ((await fetch(`${base}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the service did not start in 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    base,
    child,
    output: () => out,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
