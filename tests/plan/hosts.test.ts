import { describe, expect, it } from "vitest";
import { assertKnownHosts, expandRange, resolveSelector, unknownSelectors } from "../../src/plan/hosts";
import { PlanningError } from "../../src/plan/provider";
import { inventory } from "./inventory";
import { plan, step } from "./plans";

describe("host selectors against the inventory", () => {
  it("expand numbered ranges, keeping zero padding", () => {
    expect(expandRange("web[1-3]")).toEqual(["web1", "web2", "web3"]);
    expect(expandRange("node[08-10].dc")).toEqual(["node08.dc", "node09.dc", "node10.dc"]);
    // A backwards range is a range that names no machine: it resolves to nothing, so it is unknown.
    expect(expandRange("web[3-1]")).toEqual([]);
    expect(resolveSelector(inventory, "web[3-1]")).toBeNull();
    expect(expandRange("web1")).toBeNull();
  });

  it("resolve names, groups, tags and ranges, or say null", () => {
    expect(resolveSelector(inventory, "web1")).toEqual(["web1"]);
    expect(resolveSelector(inventory, "group:web")).toEqual(["web1", "web2", "web3"]);
    expect(resolveSelector(inventory, "tag:prod")).toEqual(["web1", "web2", "db1"]);
    expect(resolveSelector(inventory, "web[2-3]")).toEqual(["web2", "web3"]);
    expect(resolveSelector(inventory, "web[1-4]")).toBeNull();
    expect(resolveSelector(inventory, "group:mail")).toBeNull();
    expect(resolveSelector(inventory, "10.0.0.1")).toBeNull();
    expect(resolveSelector(inventory, "all")).toHaveLength(5);
  });

  it("find every unknown selector in a plan, parameters' host defaults included", () => {
    const p = plan(
      [
        step({ id: "a", targets: ["web1", "web9"] }),
        step({ id: "b", targets: ["{{params.hosts}}"], action: { kind: "ssh", command: "uptime" } }),
      ],
      { params: [{ name: "hosts", type: "hosts", description: null, default: ["group:web", "tag:dev"] }] },
    );
    expect(unknownSelectors(p, inventory)).toEqual([
      { path: "steps[0].targets[1]", selector: "web9" },
      { path: "params[0].default[1]", selector: "tag:dev" },
    ]);
    expect(() => assertKnownHosts(p, inventory)).toThrow(PlanningError);
  });
});
