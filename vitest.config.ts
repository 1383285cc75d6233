import { defineConfig } from "vitest/config";

// isolated-vm needs --no-node-snapshot on Node 20+, and NODE_OPTIONS cannot carry it into
// worker threads (isolated-vm #481): run test files in forked processes with the flag.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    pool: "forks",
    execArgv: ["--no-node-snapshot"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
