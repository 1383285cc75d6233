/**
 * Runtime errors name positions in the bundle; the reviewer reads the TypeScript source.
 * The first stack frame inside the bundle is mapped back through the bundle's source map.
 */
import { SourceMap, type SourceMapPayload } from "node:module";
import { BUNDLE_FILENAME } from "../../sandbox/protocol";

export type SourcePosition = { file: string; line: number; column: number };

const FRAME = new RegExp(`${BUNDLE_FILENAME.replace(".", "\\.")}:(\\d+):(\\d+)`);

/** 1-based line and column in the original source, or null when no frame maps. */
export function sourcePositionOf(
  stack: string | null,
  sourceMap: string | null | undefined,
): SourcePosition | null {
  if (!stack || !sourceMap) return null;
  let map: SourceMap;
  try {
    map = new SourceMap(JSON.parse(sourceMap) as SourceMapPayload);
  } catch {
    return null;
  }
  for (const line of stack.split("\n")) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const entry = map.findEntry(Number(m[1]) - 1, Number(m[2]) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined) continue;
    // Frames inside the virtual SDK module are not the flow's own code.
    if (entry.originalSource.includes("intentflow:sdk")) continue;
    return {
      file: entry.originalSource,
      line: entry.originalLine + 1,
      column: (entry.originalColumn ?? 0) + 1,
    };
  }
  return null;
}
