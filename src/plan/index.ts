export {
  describeKnownHosts,
  expandRange,
  resolveSelector,
  unknownSelectorIssues,
  unknownSelectors,
} from "./hosts";
export { type PlanInput, parsePlanInput } from "./input";
export { formatPath, type Issue, issuesFromZod, PlanInputError } from "./issues";
export { planJsonSchema, strictModeViolations } from "./json-schema";
export { importLegacyWorkflow, looksLikeLegacyWorkflow } from "./legacy";
export { OFFLINE_CATALOGUE, OfflinePlanner, planOffline } from "./offline";
export { OllamaPlanner, type OllamaPlannerOptions } from "./ollama";
export { OpenAiPlanner, type OpenAiPlannerOptions } from "./openai";
export {
  checkIntent,
  type InventoryView,
  type PlannedResult,
  type PlannerContext,
  PlanningError,
  type PlanningErrorCode,
  type PlanProvider,
} from "./provider";
export {
  type ChatMessage,
  DEFAULT_MAX_REPAIRS,
  planWithRepairs,
  readPlanReply,
  refinedIntent,
  refineWithRepairs,
} from "./repair";
export { OFFLINE_REFINEMENTS, refineOffline } from "./offline/refine";
export * from "./schema";
export { type PlannerSelection, probeOllama, selectPlanner } from "./select";
