/** settle, parallel and settleAll: fan-out without timers, in item order. */
import { toError } from "./errors";

export type Settled<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

export async function settle<T>(fn: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: toError(e) };
  }
}

export async function parallel<T, R>(
  items: readonly T[],
  options: { concurrency: number },
  fn: (item: T, index: number) => Promise<R>,
): Promise<Array<[T, Settled<R>]>> {
  const limit = options?.concurrency;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1)
    throw new TypeError("parallel: concurrency must be a whole number of at least 1");
  if (!Array.isArray(items)) throw new TypeError("parallel: items must be an array");
  const results = new Array<[T, Settled<R>]>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      results[index] = [item, await settle(() => fn(item, index))];
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (rejected) throw rejected.reason;
}
