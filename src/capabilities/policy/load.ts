import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { type CommandPolicy, createCommandPolicy, PolicySpecSchema } from "./policy";

/**
 * Reads an admin's policy file (YAML or JSON, see README "Command policy"). No file means the
 * built-in rules. A malformed file stops start-up with the field at fault.
 */
export async function loadCommandPolicy(file: string | undefined): Promise<CommandPolicy> {
  if (!file) return createCommandPolicy();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read command policy (${(e as NodeJS.ErrnoException).code ?? "error"})`, {
      cause: e,
    });
  }
  const data: unknown = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  const parsed = PolicySpecSchema.safeParse(data ?? {});
  if (!parsed.success)
    throw new Error(
      `${file}: invalid command policy: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ")}`,
    );
  return createCommandPolicy(parsed.data);
}
