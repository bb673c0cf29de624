import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** An AWS service that may use the key, with the condition that pins it to this account. */
export interface KeyServiceGrant {
  /** Service principal, e.g. `logs.eu-west-1.amazonaws.com`. */
  principal: pulumi.Input<string>;
  /** Encryption-context or source conditions the service must meet, as IAM condition JSON. */
  condition?: pulumi.Input<Record<string, unknown>>;
  /** What the service may do with the key. @default encrypt, decrypt, re-encrypt, generate data keys, describe */
  actions?: string[];
}

/** What a service may do with a key unless its grant says less. */
const SERVICE_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"];

export interface EncryptionKeyArgs {
  /** What the key protects; shown in the KMS console. */
  description: string;
  /** Account that owns the key; its administrators manage it through IAM. */
  accountId: pulumi.Input<string>;
  /** AWS partition, e.g. "aws". @default "aws" */
  partition?: pulumi.Input<string>;
  /** Services that encrypt with the key on the account's behalf (CloudWatch Logs, SNS, ...). */
  services?: KeyServiceGrant[];
  /** Days KMS waits before deleting the key once scheduled (7-30). @default 30 */
  deletionWindowInDays?: number;
  /** Pulumi `protect`: the key cannot be deleted by an update. */
  protect: boolean;
  /** Region of the key when it is not the stack's (e.g. a disaster-recovery copy). @default the provider's */
  region?: string;
  /**
   * The alias's name without `alias/` and KMS's random suffix. Name the environment in it: stacks
   * that share an account must not show two `opsbook-logs` keys. @default `opsbook-<name>`
   */
  aliasName?: string;
}

/**
 * A customer-managed KMS key with yearly rotation and an alias. The key policy delegates to IAM
 * in the owning account and lets only the named services use it, so nothing outside the account
 * can decrypt what it protects.
 */
export class EncryptionKey extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly alias: aws.kms.Alias;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: EncryptionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:security:EncryptionKey", name, {}, opts);
    const window = args.deletionWindowInDays ?? 30;
    if (!Number.isInteger(window) || window < 7 || window > 30) {
      throw new pulumi.ResourceError(`deletionWindowInDays must be a whole number from 7 to 30, got ${window}`, this);
    }
    const partition = args.partition ?? "aws";
    const statements = pulumi
      .all([
        args.accountId,
        partition,
        pulumi.all((args.services ?? []).map((s) => pulumi.all([s.principal, s.condition, s.actions]))),
      ])
      .apply(([account, part, services]) => [
        {
          Sid: "AccountAdministersThroughIam",
          Effect: "Allow",
          Principal: { AWS: `arn:${part}:iam::${account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        ...services.map(([principal, condition, actions], i) => ({
          Sid: `ServiceUse${i}`,
          Effect: "Allow",
          Principal: { Service: principal },
          Action: actions ?? SERVICE_ACTIONS,
          Resource: "*",
          ...(condition ? { Condition: condition } : {}),
        })),
      ]);

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: args.description,
        enableKeyRotation: true,
        deletionWindowInDays: window,
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
        ...(args.region ? { region: args.region } : {}),
      },
      // Never scheduled for deletion by `pulumi destroy`: snapshots and backups encrypted with it
      // outlive the stack, and a deleted key makes them unreadable.
      { parent: this, protect: args.protect, retainOnDelete: true },
    );
    this.alias = new aws.kms.Alias(
      `${name}-alias`,
      {
        namePrefix: `alias/${args.aliasName ?? `opsbook-${name}`}-`,
        targetKeyId: this.key.keyId,
        ...(args.region ? { region: args.region } : {}),
      },
      { parent: this },
    );
    this.arn = this.key.arn;
    this.registerOutputs({ arn: this.arn });
  }
}
