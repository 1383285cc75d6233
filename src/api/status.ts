import type { Intentflow } from "../service";

/** Which parts are in use and whether each answers: what an operator checks first. */
export async function describeStatus(svc: Intentflow) {
  const storeUp = await svc.store.ping().catch(() => false);
  return {
    store: { kind: svc.store.kind, reachable: storeUp },
    queue: { backend: svc.queue.kind, reachable: true, jobs: svc.queue.counts() },
    planner: { provider: svc.planner.name, reason: svc.plannerReason },
    engines: {
      queue: { available: true },
      flow: {
        available: svc.flowAvailable,
        ...(svc.flowAvailable ? {} : { reason: "isolated-vm could not be loaded" }),
      },
    },
    inventory: { hosts: svc.inventory.hosts().length, file: svc.config.inventory.file },
  };
}
