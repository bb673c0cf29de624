import type * as pulumi from "@pulumi/pulumi";

/**
 * What a service needs to reach a backing store: plain settings as environment variables, and
 * credentials as ECS `secrets` that the task's execution role reads from Secrets Manager at start.
 * Data components expose one; the service component injects every one it is given.
 */
export interface ServiceConnection {
  /** Plain settings, e.g. `DB_HOST`, `DB_PORT`, `REDIS_TLS`. Never credentials. */
  environment: Record<string, pulumi.Input<string>>;
  /**
   * Environment variable -> ECS `valueFrom`: a secret ARN, or `<arn>:<json-key>::` for one key of
   * a JSON secret.
   */
  secrets: Record<string, pulumi.Input<string>>;
  /** ARNs of the secrets above, for `secretsmanager:GetSecretValue` on the execution role. */
  secretArns: pulumi.Input<string>[];
  /** KMS keys that encrypt those secrets, for `kms:Decrypt` on the execution role. */
  kmsKeyArns: pulumi.Input<string>[];
}
