/**
 * Whether this process can run sandboxes. On Node 20+ isolated-vm needs the process to run
 * with --no-node-snapshot (its README): without it, creating an isolate can crash the whole
 * process, so the flag is checked before a real isolate is tried. Cached: asked at startup.
 */
import ivm from "isolated-vm";

export type SandboxStatus = { available: boolean; reason: string | null };

const FLAG = "--no-node-snapshot";
let status: SandboxStatus | null = null;

function hasNoSnapshotFlag(): boolean {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) return true;
  return process.execArgv.includes(FLAG) || (process.env.NODE_OPTIONS ?? "").split(/\s+/).includes(FLAG);
}

function probe(): SandboxStatus {
  if (!hasNoSnapshotFlag())
    return {
      available: false,
      reason: `node must run with ${FLAG} for isolated-vm (Node ${process.versions.node})`,
    };
  let isolate: ivm.Isolate | null = null;
  try {
    isolate = new ivm.Isolate({ memoryLimit: 8 });
    const context = isolate.createContextSync();
    const answer = isolate.compileScriptSync("6 * 7").runSync(context);
    return answer === 42
      ? { available: true, reason: null }
      : { available: false, reason: "isolated-vm answered wrongly" };
  } catch (e) {
    return {
      available: false,
      reason: `isolated-vm does not work here: ${e instanceof Error ? e.message : String(e)}`,
    };
  } finally {
    isolate?.dispose();
  }
}

export function sandboxStatus(): SandboxStatus {
  status ??= probe();
  return status;
}

export function sandboxAvailable(): boolean {
  return sandboxStatus().available;
}
