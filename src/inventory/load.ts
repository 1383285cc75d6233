import { readFile, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { createInventory, InventoryError } from "./inventory";
import type { Inventory } from "./types";

/** Inventories are a few hundred hosts at most; a huge file is a wrong path, not an inventory. */
const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/** Reads an inventory file: `.json` as JSON, `.yaml`/`.yml` as YAML. */
export async function loadInventory(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  const path = resolve(file);
  const text = await readText(path);
  const data = parseText(path, text);
  return createInventory(data, env, { baseDir: dirname(path), source: path });
}

async function readText(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.size > MAX_INVENTORY_BYTES)
      throw new InventoryError(`${path}: inventory file is larger than ${MAX_INVENTORY_BYTES} bytes`);
    return await readFile(path, "utf8");
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "read error";
    throw new InventoryError(`${path}: cannot read inventory file (${code})`, { cause: e });
  }
}

function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".json") return JSON.parse(text);
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    // First line only: parsers quote the offending source line, which may hold anything.
    const reason = ((e as Error).message.split("\n")[0] ?? "").replace(/, ".*" is not valid JSON$/, "");
    throw new InventoryError(`${path}: not valid ${ext === ".json" ? "JSON" : "YAML"}: ${reason}`);
  }
  throw new InventoryError(`${path}: unknown inventory format "${ext}" (use .yaml, .yml or .json)`);
}
