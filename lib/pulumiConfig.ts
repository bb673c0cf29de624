/**
 * Which config keys hold secrets. Pulumi hands a program every value decrypted and keeps the list
 * of secret keys beside them (`PULUMI_CONFIG_SECRET_KEYS`); `isConfigSecret` reads that list. It is
 * exported by `@pulumi/pulumi/runtime/config` but not in its typings, hence the cast.
 */
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";

const { isConfigSecret } = runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean };

/** The keys of `raw` (full keys, `opsbook:services`) whose values are secrets. */
export function secretConfigKeys(raw: Record<string, string>): Set<string> {
  return new Set(Object.keys(raw).filter((k) => isConfigSecret(k)));
}
