/**
 * The guest end of the bridge: capability calls become GuestMessages sent through the one
 * host Callback; replies come back through deliver(). Only this module touches the wire.
 */
import type { GuestMessage, WireCall, WireEvent, WireReply, WireScope } from "../protocol";
import { CapabilityFailure } from "./errors";

type Send = (json: string) => unknown;
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export type GuestBridge = {
  call(call: WireCall, scope: WireScope): Promise<unknown>;
  emit(event: WireEvent): void;
  /** Called by the host (through a Reference it keeps) with the reply to call `id`. */
  deliver(id: number, json: string): void;
};

export function createGuestBridge(send: Send): GuestBridge {
  const pending = new Map<number, Pending>();
  let lastId = 0;
  const post = (message: GuestMessage) => {
    // The host's Callback is `ignored` (it returns nothing); older hosts answered with a
    // promise for their acknowledgement, which there is nothing to wait for either.
    const ack = send(JSON.stringify(message));
    if (ack && typeof (ack as Promise<unknown>).catch === "function")
      (ack as Promise<unknown>).catch(() => {});
  };
  return {
    call(call, scope) {
      const id = ++lastId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        post({ kind: "call", id, scope, ...call });
      });
    },
    emit(event) {
      post({ kind: "event", event });
    },
    deliver(id, json) {
      const waiting = pending.get(id);
      if (!waiting) return;
      pending.delete(id);
      const reply = JSON.parse(json) as WireReply;
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(new CapabilityFailure(reply.error.code, reply.error.message));
    },
  };
}
