import type { PlannedResult, PlannerContext, PlanProvider } from "./provider";
import { type ChatMessage, planWithRepairs, refineWithRepairs } from "./repair";
import type { Plan } from "./schema";

/**
 * What every chat-model planner shares: planning and refining both go through the repair
 * loop; a provider only says how to send messages to its model and get the reply text.
 */
export abstract class ChatModelPlanner implements PlanProvider {
  constructor(
    readonly name: string,
    private readonly maxRepairs: number | undefined,
  ) {}

  protected abstract complete(messages: readonly ChatMessage[]): Promise<string>;

  plan(intent: string, ctx: PlannerContext): Promise<PlannedResult> {
    return planWithRepairs({
      intent,
      ctx,
      provider: this.name,
      maxRepairs: this.maxRepairs,
      complete: (messages) => this.complete(messages),
    });
  }

  refine(plan: Plan, message: string, ctx: PlannerContext): Promise<PlannedResult> {
    return refineWithRepairs({
      plan,
      message,
      ctx,
      provider: this.name,
      maxRepairs: this.maxRepairs,
      complete: (messages) => this.complete(messages),
    });
  }
}
