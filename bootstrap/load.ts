/** Reads the running stack's config: the only place in the bootstrap that touches Pulumi config. */
import * as pulumi from "@pulumi/pulumi";
import { secretConfigKeys } from "../lib/pulumiConfig";
import { parseBootstrapConfig, type BootstrapConfig } from "./config";

export function loadBootstrapConfig(): BootstrapConfig {
  const raw = pulumi.runtime.allConfig();
  return parseBootstrapConfig(pulumi.getStack(), raw, secretConfigKeys(raw));
}
