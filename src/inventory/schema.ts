import { z } from "zod";

/**
 * The inventory file format. Strict objects everywhere: a misspelt field (`adress`) is an
 * error, not a silently ignored default, and inline secrets are refused with a pointer to the
 * env/file references that replace them.
 */

export const HOST_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;
/** Selector keywords that would shadow a host of the same name. */
export const RESERVED_HOST_NAMES = new Set(["all"]);
/** Groups and tags appear after `group:` / `tag:` in selectors, so the same alphabet as host names. */
const LABEL = HOST_NAME;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Host names and IPv4/IPv6 literals; nothing that could pass for an ssh option or shell syntax. */
const ADDRESS = /^[a-zA-Z0-9_.:%-]{1,253}$/;
const USER = /^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}$/;
/** OpenSSH's "SHA256:" + unpadded base64 of 32 bytes; trailing "=" is tolerated and removed. */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

const envName = z.string().regex(ENV_NAME, "expected an environment variable name");
const filePath = z
  .string()
  .min(1, "expected a file path")
  .max(4096, "path too long")
  .refine((p) => !p.includes("\0"), "path contains a NUL byte");

const SECRET_FIELDS = ["password", "privateKey", "passphrase", "key", "secret", "token"];

export const CredentialSchema = z
  .strictObject({
    passwordEnv: envName.optional(),
    passwordFile: filePath.optional(),
    privateKeyFile: filePath.optional(),
    privateKeyEnv: envName.optional(),
    passphraseEnv: envName.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.passwordEnv && c.passwordFile)
      ctx.addIssue({ code: "custom", message: "give passwordEnv or passwordFile, not both" });
    if (c.privateKeyFile && c.privateKeyEnv)
      ctx.addIssue({ code: "custom", message: "give privateKeyFile or privateKeyEnv, not both" });
    if (c.passphraseEnv && !c.privateKeyFile && !c.privateKeyEnv)
      ctx.addIssue({ code: "custom", message: "passphraseEnv needs privateKeyFile or privateKeyEnv" });
  });

const label = z.string().regex(LABEL, "expected letters, digits, '.', '_' or '-' (at most 63)");
const labels = z.array(label).max(256);
const port = z.number().int("expected an integer").min(1).max(65535);
const os = z.enum(["linux", "windows"]);
const hostKey = z
  .string()
  .regex(FINGERPRINT, 'expected an OpenSSH fingerprint "SHA256:<43 base64 characters>"');

const HostSchema = z.strictObject({
  address: z.string().regex(ADDRESS, "expected a host name or IP address"),
  port: port.optional(),
  user: z.string().regex(USER, "expected a user name").optional(),
  groups: labels.optional(),
  tags: labels.optional(),
  credential: CredentialSchema.optional(),
  hostKey: hostKey.optional(),
  trustOnFirstUse: z.boolean().optional(),
  os: os.optional(),
});

const DefaultsSchema = z.strictObject({
  port: port.optional(),
  user: z.string().regex(USER, "expected a user name").optional(),
  credential: CredentialSchema.optional(),
  trustOnFirstUse: z.boolean().optional(),
  os: os.optional(),
});

export const InventoryFileSchema = z.strictObject({
  defaults: DefaultsSchema.optional(),
  hosts: z.record(z.string(), HostSchema).superRefine((hosts, ctx) => {
    for (const name of Object.keys(hosts)) {
      if (!HOST_NAME.test(name))
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "host name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
        });
      else if (RESERVED_HOST_NAMES.has(name))
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `"${name}" is a selector keyword, not a host name`,
        });
    }
  }),
});

export type InventoryFile = z.infer<typeof InventoryFileSchema>;
export type HostEntry = z.infer<typeof HostSchema>;

/** `hosts.web1.port: expected number, got string`: one line per problem, values never echoed. */
export function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${describeIssue(issue, input)}`).join("; ");
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === "invalid_type")
    return `expected ${issue.expected}, got ${typeName(valueAt(input, issue.path))}`;
  if (issue.code === "unrecognized_keys")
    return issue.keys
      .map((k) =>
        SECRET_FIELDS.includes(k)
          ? `"${k}" is not allowed: secrets stay out of the inventory, use passwordEnv/passwordFile/privateKeyFile/privateKeyEnv`
          : `unknown field ${JSON.stringify(k)}`,
      )
      .join(", ");
  if (issue.code === "invalid_value")
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return issue.message;
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "(file)";
  return path
    .map((p, i) => {
      if (typeof p === "number") return `[${p}]`;
      const s = String(p);
      const plain = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(s) && !s.includes(".");
      // Host names may contain dots; bracket them so the path stays unambiguous.
      if (!plain) return `[${JSON.stringify(s.slice(0, 80))}]`;
      return i === 0 ? s : `.${s}`;
    })
    .join("");
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}
