import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CredentialError,
  createInventory,
  InventoryError,
  loadInventory,
  UnknownHostError,
} from "../../src/inventory";

const KEY = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
const SECRET = "pl4nted-S3cret-value!";

const YAML = `
defaults: { user: ops, port: 22, credential: { passwordEnv: INV_TEST_PW } }
hosts:
  web1: { address: 10.0.0.11, groups: [web], tags: [prod], hostKey: "${KEY}" }
  web2: { address: 10.0.0.12, groups: [web], tags: [prod, eu] }
  web03: { address: 10.0.0.13, groups: [web], tags: [staging] }
  db1: { address: db1.internal, port: 2222, user: postgres, groups: [db], tags: [prod], os: linux, trustOnFirstUse: true }
  win1: { address: 10.0.1.20, os: windows, credential: { privateKeyFile: keys/win1 } }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "intentflow-inventory-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loading", () => {
  it("reads YAML with defaults applied and the example file validates", async () => {
    const inv = await loadInventory(file("a.yaml", YAML), {});
    expect(inv.hosts().map((h) => h.name)).toEqual(["web1", "web2", "web03", "db1", "win1"]);
    expect(inv.get("web1")).toMatchObject({
      address: "10.0.0.11",
      port: 22,
      user: "ops",
      hostKey: KEY,
      os: "linux",
    });
    expect(inv.get("db1")).toMatchObject({ port: 2222, user: "postgres", trustOnFirstUse: true });
    expect(inv.get("win1")).toMatchObject({ os: "windows", credential: { privateKeyFile: "keys/win1" } });
    expect(inv.get("nope")).toBeUndefined();
    const example = await loadInventory(join(__dirname, "../../fixtures/inventory/example.yaml"), {});
    expect(example.resolve(["group:web"])).toEqual(["web1", "web2"]);
  });

  it("reads JSON the same way", async () => {
    const data = {
      defaults: { user: "ops", credential: { passwordEnv: "INV_TEST_PW" } },
      hosts: { a1: { address: "10.0.0.1", groups: ["app"] }, a2: { address: "10.0.0.2", groups: ["app"] } },
    };
    const inv = await loadInventory(file("b.json", JSON.stringify(data)), {});
    expect(inv.resolve(["group:app"])).toEqual(["a1", "a2"]);
    expect(inv.get("a2")).toMatchObject({ port: 22, user: "ops", os: "linux" });
  });

  it("accepts a padded fingerprint and stores it the way OpenSSH prints it", () => {
    const inv = createInventory({ hosts: { h1: { address: "h1", hostKey: `${KEY}=` } } }, {});
    expect(inv.get("h1")!.hostKey).toBe(KEY);
  });

  it("hands out copies, so nobody edits the inventory through a returned host", () => {
    const inv = createInventory({ hosts: { h1: { address: "h1", groups: ["g"] } } }, {});
    inv.get("h1")!.groups.push("evil");
    inv.hosts()[0]!.credential.passwordEnv = "OTHER";
    expect(inv.get("h1")!.groups).toEqual(["g"]);
    expect(inv.get("h1")!.credential).toEqual({});
  });

  const bad: [string, unknown, RegExp][] = [
    [
      "wrong type",
      { hosts: { web1: { address: "a", port: "22" } } },
      /hosts\.web1\.port: expected number, got string/,
    ],
    ["port range", { hosts: { web1: { address: "a", port: 70000 } } }, /hosts\.web1\.port: .*65535/],
    ["missing address", { hosts: { web1: {} } }, /hosts\.web1\.address: expected string, got nothing/],
    [
      "unknown field",
      { hosts: { web1: { address: "a", adress: "b" } } },
      /hosts\.web1: unknown field "adress"/,
    ],
    [
      "inline password",
      { hosts: { web1: { address: "a", password: SECRET } } },
      /hosts\.web1: "password" is not allowed/,
    ],
    [
      "inline secret in credential",
      { hosts: { web1: { address: "a", credential: { password: SECRET } } } },
      /hosts\.web1\.credential: "password" is not allowed/,
    ],
    [
      "host name with a space",
      { hosts: { "web 1": { address: "a" } } },
      /hosts\["web 1"\]: host name must be/,
    ],
    ["host name with shell syntax", { hosts: { "web1;rm": { address: "a" } } }, /host name must be/],
    [
      "host name starting with a dash",
      { hosts: { "-oProxyCommand": { address: "a" } } },
      /host name must be/,
    ],
    ["reserved name", { hosts: { all: { address: "a" } } }, /"all" is a selector keyword/],
    [
      "address with an option",
      { hosts: { web1: { address: "-oProxyCommand=x" } } },
      /hosts\.web1\.address: expected a host name or IP address/,
    ],
    ["address with spaces", { hosts: { web1: { address: "a b" } } }, /hosts\.web1\.address/],
    [
      "user with shell syntax",
      { hosts: { web1: { address: "a", user: "root$(id)" } } },
      /hosts\.web1\.user: expected a user name/,
    ],
    [
      "group with a colon",
      { hosts: { web1: { address: "a", groups: ["x:y"] } } },
      /hosts\.web1\.groups\[0\]/,
    ],
    [
      "bad fingerprint",
      { hosts: { web1: { address: "a", hostKey: "MD5:aa" } } },
      /hosts\.web1\.hostKey: expected an OpenSSH fingerprint/,
    ],
    [
      "bad os",
      { hosts: { web1: { address: "a", os: "plan9" } } },
      /hosts\.web1\.os: expected one of "linux", "windows"/,
    ],
    [
      "bad env name",
      { hosts: { web1: { address: "a", credential: { passwordEnv: "A-B" } } } },
      /credential\.passwordEnv: expected an environment variable name/,
    ],
    [
      "two password sources",
      { hosts: { web1: { address: "a", credential: { passwordEnv: "A", passwordFile: "f" } } } },
      /passwordEnv or passwordFile, not both/,
    ],
    ["hosts not a map", { hosts: [] }, /hosts: expected record, got array/],
    ["not an object", "hosts", /\(file\): expected object, got string/],
    ["unknown top-level field", { hosts: {}, extra: 1 }, /\(file\): unknown field "extra"/],
  ];
  it.each(bad)("rejects %s, naming the field", (_label, data, message) => {
    expect(() => createInventory(data, {})).toThrow(InventoryError);
    expect(() => createInventory(data, {})).toThrow(message);
    try {
      createInventory(data, {});
    } catch (e) {
      expect((e as Error).message).not.toContain(SECRET);
    }
  });

  it("reports every problem at once", () => {
    const data = { hosts: { web1: { address: 1, port: "x" } } };
    expect(() => createInventory(data, {})).toThrow(/hosts\.web1\.address: .*; hosts\.web1\.port: /);
  });

  it("rejects unreadable, unparsable and unknown-format files without quoting their contents", async () => {
    await expect(loadInventory(join(dir, "missing.yaml"), {})).rejects.toThrow(
      /cannot read inventory file \(ENOENT\)/,
    );
    const yamlErr = loadInventory(file("bad.yaml", `hosts:\n  web1: { address: a, pw: ${SECRET}: x }\n`), {});
    await expect(yamlErr).rejects.toThrow(/not valid YAML/);
    await expect(yamlErr).rejects.not.toThrow(SECRET);
    const jsonErr = loadInventory(file("bad.json", `{"hosts": {"web1": "${SECRET}" x}}`), {});
    await expect(jsonErr).rejects.toThrow(/not valid JSON/);
    await expect(jsonErr).rejects.not.toThrow(SECRET);
    await expect(loadInventory(file("inv.toml", "x"), {})).rejects.toThrow(
      /unknown inventory format ".toml"/,
    );
    await expect(
      loadInventory(file("dup.yaml", "hosts:\n  a: { address: a }\n  a: { address: b }\n"), {}),
    ).rejects.toThrow(/not valid YAML/);
  });
});

describe("selectors", () => {
  const inv = createInventory(
    {
      hosts: {
        web1: { address: "a", groups: ["web"], tags: ["prod"] },
        web2: { address: "a", groups: ["web"], tags: ["prod", "eu"] },
        web3: { address: "a", groups: ["web"], tags: ["staging"] },
        web01: { address: "a", groups: ["legacy"] },
        web02: { address: "a", groups: ["legacy"] },
        db1: { address: "a", groups: ["db"], tags: ["prod"] },
      },
    },
    {},
  );

  it.each([
    [["web2"], ["web2"]],
    [["group:web"], ["web1", "web2", "web3"]],
    [["tag:prod"], ["web1", "web2", "db1"]],
    [["tag:eu"], ["web2"]],
    [["web[1-2]"], ["web1", "web2"]],
    [["web[01-02]"], ["web01", "web02"]],
    [["*"], ["web1", "web2", "web3", "web01", "web02", "db1"]],
    [["all"], ["web1", "web2", "web3", "web01", "web02", "db1"]],
    [
      ["db1", "web1"],
      ["web1", "db1"],
    ],
    [
      ["tag:prod", "group:web", "web2"],
      ["web1", "web2", "web3", "db1"],
    ],
    [[" web1 "], ["web1"]],
    [[], []],
  ])("%j → %j (inventory order, deduplicated)", (selectors, names) => {
    expect(inv.resolve(selectors)).toEqual(names);
  });

  it.each(["web9", "group:nope", "tag:nope", "web[1-5]", "web[3-1]", "group:", "WEB1", "web[1-9999]"])(
    "throws UnknownHostError listing the known hosts for %j",
    (selector) => {
      let error: unknown;
      try {
        inv.resolve(["web1", selector]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnknownHostError);
      expect((error as UnknownHostError).selector).toBe(selector);
      expect((error as UnknownHostError).known).toEqual(["web1", "web2", "web3", "web01", "web02", "db1"]);
      expect((error as Error).message).toContain("known hosts: web1, web2, web3, web01, web02, db1");
    },
  );

  it("describes names, groups, tags and os only", () => {
    const view = inv.describe();
    expect(view.groups).toEqual(["web", "legacy", "db"]);
    expect(view.tags).toEqual(["prod", "eu", "staging"]);
    expect(view.hosts[0]).toEqual({ name: "web1", groups: ["web"], tags: ["prod"], os: "linux" });
    expect(JSON.stringify(view)).not.toMatch(/address|credential|port|user/);
  });
});

describe("credentials", () => {
  const data = (credential: Record<string, string>) => ({ hosts: { h1: { address: "a", credential } } });

  it("reads a password from the environment at call time, not at load time", async () => {
    const env: NodeJS.ProcessEnv = {};
    const inv = createInventory(data({ passwordEnv: "INV_PW" }), env);
    await expect(inv.credentials("h1")).rejects.toThrow(
      "environment variable INV_PW (credential.passwordEnv) is not set",
    );
    env.INV_PW = SECRET;
    expect(await inv.credentials("h1")).toEqual({ password: SECRET });
  });

  it("reads password and key files relative to the inventory, minus the editor's final newline", async () => {
    file("pw.txt", `${SECRET}\n`);
    file("id_test", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
    const path = file(
      "creds.yaml",
      `hosts:\n  a: { address: a, credential: { passwordFile: pw.txt } }\n  b: { address: b, credential: { privateKeyFile: ${join(dir, "id_test")}, passphraseEnv: INV_PASS } }\n`,
    );
    const inv = await loadInventory(path, { INV_PASS: "phrase" });
    expect(await inv.credentials("a")).toEqual({ password: SECRET });
    expect(await inv.credentials("b")).toEqual({
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
      passphrase: "phrase",
    });
  });

  it("reads a private key from the environment", async () => {
    const inv = createInventory(data({ privateKeyEnv: "INV_KEY" }), { INV_KEY: "KEYDATA" });
    expect(await inv.credentials("h1")).toEqual({ privateKey: "KEYDATA" });
  });

  it("names the missing file or variable, never a secret", async () => {
    const env = { OTHER_SECRET: SECRET };
    const missingFile = createInventory(data({ passwordFile: "/nonexistent/pw" }), env);
    await expect(missingFile.credentials("h1")).rejects.toThrow(CredentialError);
    await expect(missingFile.credentials("h1")).rejects.toThrow(
      'cannot read credential.passwordFile "/nonexistent/pw" (ENOENT)',
    );
    const empty = createInventory(data({ passwordFile: file("empty", "") }), env);
    await expect(empty.credentials("h1")).rejects.toThrow(/is empty/);
    const noRef = createInventory({ hosts: { h1: { address: "a" } } }, env);
    await expect(noRef.credentials("h1")).rejects.toThrow(/no credential configured/);
    for (const inv of [missingFile, empty, noRef])
      await inv
        .credentials("h1")
        .catch((e: Error) => expect(`${e.message} ${e.stack}`).not.toContain(SECRET));
  });

  it("refuses unknown hosts", async () => {
    const inv = createInventory(data({ passwordEnv: "X" }), {});
    await expect(inv.credentials("nope")).rejects.toBeInstanceOf(UnknownHostError);
  });
});
