#!/usr/bin/env node
// Re-executes the CLI with the flags isolated-vm needs (--no-node-snapshot) and the TypeScript loader.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
const child = spawn(
  process.execPath,
  ["--no-node-snapshot", "--import", tsx, cli, ...process.argv.slice(2)],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
