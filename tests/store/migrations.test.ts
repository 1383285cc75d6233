import { describe, expect, it } from "vitest";
import { listMigrationProvider, MIGRATIONS } from "../../src/store/migrations";

describe("the migration list", () => {
  it("is in strictly increasing name order, as kysely applies it", () => {
    const names = MIGRATIONS.map((m) => m.name);
    expect(names).toEqual([...new Set(names)].sort());
  });

  it("is refused when an entry is out of order", async () => {
    const up = async () => undefined;
    const provider = listMigrationProvider([
      { name: "0002_b", up },
      { name: "0001_a", up },
    ]);
    await expect(provider.getMigrations()).rejects.toThrow(/append-only/);
  });
});
