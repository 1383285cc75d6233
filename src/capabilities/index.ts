import type { Inventory } from "../inventory/types";
import { type CommandPolicy, createCommandPolicy } from "./command-policy";
import { createHttpCapability, type HttpCapability } from "./http";
import { createNetCapability, type NetCapability } from "./net";
import { createNotifyCapability, type NotifyCapability } from "./notify";
import { createPowerShellCapability, type PowerShellCapability } from "./powershell";
import { createSshCapability, type PooledSshCapability, type SshCapabilityOptions } from "./ssh";

/**
 * Every capability the engines can use, built from one options object. service.ts builds
 * this once and hands it to the CapabilityExecutor; nothing here reads the environment.
 */

export type CapabilitiesOptions = {
  inventory: Inventory;
  ssh?: Omit<SshCapabilityOptions, "inventory">;
  /** Host names (or `*.domain`) HTTP calls may reach besides inventory hosts. */
  httpAllowHosts?: readonly string[];
  httpMaxBodyBytes?: number;
  ping?: "auto" | "icmp" | "tcp";
  notifyWebhookUrl?: string;
  /** The admin's command policy (loadCommandPolicy); the built-in rules when absent. */
  policy?: CommandPolicy;
};

export type Capabilities = {
  ssh: PooledSshCapability;
  powershell: PowerShellCapability;
  http: HttpCapability;
  net: NetCapability;
  notify: NotifyCapability;
  policy: CommandPolicy;
  close(): Promise<void>;
};

export function createCapabilities(options: CapabilitiesOptions): Capabilities {
  const { inventory } = options;
  const ssh = createSshCapability({ inventory, ...options.ssh });
  return {
    ssh,
    powershell: createPowerShellCapability({ ssh, inventory }),
    http: createHttpCapability({
      inventory,
      allowHosts: options.httpAllowHosts,
      maxBodyBytes: options.httpMaxBodyBytes,
    }),
    net: createNetCapability({ inventory, ping: options.ping }),
    notify: createNotifyCapability({ webhookUrl: options.notifyWebhookUrl }),
    policy: options.policy ?? createCommandPolicy(),
    close: () => ssh.close(),
  };
}

export { loadCommandPolicy } from "./command-policy";
