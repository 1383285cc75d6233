import { readFileSync } from "node:fs";
import { ts } from "ts-morph";
import { describe, expect, it } from "vitest";
import { SDK_VALUE_EXPORTS } from "../../sandbox/protocol";

/** Value exports (functions, consts) declared by sandbox/sdk.d.ts. */
function declaredValues(): string[] {
  const text = readFileSync(new URL("../../sandbox/sdk.d.ts", import.meta.url), "utf8");
  const sf = ts.createSourceFile("sdk.d.ts", text, ts.ScriptTarget.ES2022, true);
  const module = sf.statements.find(ts.isModuleDeclaration);
  const body = module?.body;
  if (!body || !ts.isModuleBlock(body)) throw new Error("no module block");
  return body.statements
    .flatMap((s) =>
      ts.isFunctionDeclaration(s) && s.name
        ? [s.name.text]
        : ts.isVariableStatement(s)
          ? s.declarationList.declarations.map((d) => d.name.getText(sf))
          : [],
    )
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

describe("the SDK", () => {
  it("declares exactly the values the runtime installs and the bundler serves", () => {
    expect(declaredValues()).toEqual([...SDK_VALUE_EXPORTS].sort());
  });
});
