import type { InventoryView } from "../../src/plan/provider";

/** The inventory the plan tests plan against: what Inventory.describe() returns. */
export const inventory: InventoryView = {
  hosts: [
    { name: "web1", groups: ["web"], tags: ["prod"], os: "linux" },
    { name: "web2", groups: ["web"], tags: ["prod"], os: "linux" },
    { name: "web3", groups: ["web"], tags: ["staging"], os: "linux" },
    { name: "db1", groups: ["db"], tags: ["prod"], os: "linux" },
    { name: "win1", groups: ["windows"], tags: [], os: "windows" },
  ],
  groups: ["web", "db", "windows"],
  tags: ["prod", "staging"],
};

export const ctx = { inventory };
