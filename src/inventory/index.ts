export { CredentialError } from "./credentials";
export { createInventory, InventoryError, type InventoryOptions } from "./inventory";
export { loadInventory } from "./load";
export { expandRange } from "./selectors";
export * from "./types";
