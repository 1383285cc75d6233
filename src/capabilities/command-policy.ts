/** The command policy lives in policy/; this is its public face. */
export {
  type CommandClass,
  type CommandPolicy,
  type CommandVerdict,
  classifyCommand,
  createCommandPolicy,
  type PolicySpec,
  PolicySpecSchema,
} from "./policy/policy";
export { splitCommands } from "./policy/shell-words";
export { loadCommandPolicy } from "./policy/load";
