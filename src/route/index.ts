export {
  type EnginePreference,
  flowOnlyFeatures,
  type RouteDecision,
  RouteError,
  type RouteOptions,
  route,
} from "./choose";
export {
  DEFAULT_WEIGHTS,
  FACTORS,
  type Factor,
  type Level,
  levelOf,
  scoreComplexity,
  type Weights,
} from "./score";
