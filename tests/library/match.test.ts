import { describe, expect, it } from "vitest";
import type { Inventory } from "../../src/inventory/types";
import { LIBRARY_THRESHOLD, matchLibrary, rankLibrary } from "../../src/library/match";
import type { LibraryEntryRecord } from "../../src/store/types";

const HOSTS: Record<string, string[]> = {
  web1: ["web1"],
  web2: ["web2"],
  db1: ["db1"],
  "group:web": ["web1", "web2"],
  "web[1-2]": ["web1", "web2"],
};

const inventory = {
  describe: () => ({
    hosts: ["web1", "web2", "db1"].map((name) => ({ name, groups: [], tags: [], os: "linux" })),
    groups: ["web"],
    tags: [],
  }),
  resolve: (selectors: readonly string[]) => {
    const found = HOSTS[selectors[0]!];
    if (!found) throw new Error(`unknown ${selectors[0]}`);
    return found;
  },
} as unknown as Inventory;

const entry = (over: Partial<LibraryEntryRecord>): LibraryEntryRecord => ({
  id: "e",
  name: "n",
  description: "d",
  flowId: "f",
  version: 1,
  params: [],
  examples: [],
  approvedHosts: ["web1", "web2"],
  createdBy: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

const service = entry({
  id: "service",
  name: "service check",
  description: "check whether a systemd service is active",
  examples: ["check nginx on web1 and web2"],
  params: [
    { name: "hosts", type: "hosts", description: "hosts", default: ["web1", "web2"] },
    { name: "service", type: "string", description: "unit", default: "nginx" },
  ],
});

const disk = entry({
  id: "disk",
  name: "disk usage alert",
  description: "alert when disk usage is above a threshold percent",
  examples: ["warn me when disk usage on web1 is above 90%"],
  params: [{ name: "threshold", type: "number", description: "percent", default: 90 }],
});

describe("matching intents against the library", () => {
  it("reads hosts, service names and thresholds out of the intent", () => {
    const m = matchLibrary([service, disk], "check redis on group:web", inventory);
    expect(m?.entry.id).toBe("service");
    expect(m?.params).toEqual({ service: "redis", hosts: ["web1", "web2"] });
    const d = matchLibrary([service, disk], "warn me when disk usage on web2 is above 75%", inventory);
    expect(d?.entry.id).toBe("disk");
    expect(d?.params).toEqual({ threshold: 75 });
    expect(d?.hosts).toEqual(["web2"]);
  });

  it("scores below the threshold for a different action or an unrelated intent", () => {
    expect(matchLibrary([service, disk], "restart nginx on web1", inventory)).toBeNull();
    expect(matchLibrary([service, disk], "list installed packages on db1", inventory)).toBeNull();
    expect(LIBRARY_THRESHOLD).toBe(0.75);
  });

  it("does not answer an intent naming host selectors the inventory does not resolve", () => {
    for (const text of [
      "check nginx on web[1-99999]",
      "check nginx on group:nope",
      "check nginx on tag:gone",
    ]) {
      expect(matchLibrary([service, disk], text, inventory), text).toBeNull();
      expect(rankLibrary([service], text, inventory)[0]?.unresolved.length, text).toBe(1);
    }
    // Resolvable selectors still answer.
    expect(matchLibrary([service], "check nginx on web[1-2]", inventory)?.hosts).toEqual(["web1", "web2"]);
  });

  it("ranks every entry, best first, for the planner's examples", () => {
    const ranked = rankLibrary([disk, service], "check nginx on web1 and restart it", inventory);
    expect(ranked.map((m) => m.entry.id)).toEqual(["service", "disk"]);
    expect(ranked[0]!.score).toBeGreaterThan(0);
    expect(ranked[0]!.score).toBeLessThan(LIBRARY_THRESHOLD);
    expect(ranked[1]!.score).toBe(0);
  });

  it("leaves an empty library alone", () => {
    expect(matchLibrary([], "check nginx on web1", inventory)).toBeNull();
  });
});
