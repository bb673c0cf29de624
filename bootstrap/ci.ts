/**
 * What CI needs before the opsbook program can run in it (R-ci-bootstrap): the GitHub OIDC
 * provider, one role per purpose whose trust names exactly the repository and GitHub environment
 * it serves (R-ci-oidc-trust), the Pulumi state bucket, and one `awskms://` secrets key per stack
 * that only that stack's roles can decrypt (R-ci-secrets-key). Declared once per account by an
 * administrator; the policy documents are in `policies.ts`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployRoleName, previewRoleName, type BootstrapConfig } from "./config";
import {
  deployPolicy,
  environmentSubject,
  githubTrustPolicy,
  GITHUB_OIDC_URL,
  GITHUB_THUMBPRINTS,
  previewPolicy,
  pullRequestSubject,
  secretsKeyPolicy,
  stateKeyPolicy,
  STS_AUDIENCE,
} from "./policies";

/** One stack's deploy role and secrets key. */
export interface StackAccess {
  role: aws.iam.Role;
  key: aws.kms.Key;
  alias: aws.kms.Alias;
  /** The `--secrets-provider` for `pulumi stack init` / `pulumi stack change-secrets-provider`. */
  secretsProvider: pulumi.Output<string>;
}

export class CiBootstrap extends pulumi.ComponentResource {
  readonly providerArn: pulumi.Output<string>;
  readonly stateBucket: aws.s3.Bucket;
  readonly logBucket: aws.s3.Bucket;
  readonly stateKey: aws.kms.Key;
  readonly previewRole: aws.iam.Role;
  readonly stacks: Record<string, StackAccess>;
  readonly backendUrl: pulumi.Output<string>;

  constructor(name: string, c: BootstrapConfig, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:bootstrap:CiBootstrap", name, {}, opts);
    const parent = { parent: this };
    const kept = { parent: this, protect: c.protect };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const accountId = identity.accountId;
    const roleArn = (roleName: string) => pulumi.interpolate`arn:${partition}:iam::${accountId}:role/${roleName}`;

    // An account holds one provider per URL: reuse one that exists, else declare it. Protected:
    // deleting it locks every workflow out at once.
    this.providerArn = c.oidcProviderArn
      ? pulumi.output(c.oidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          "github",
          { url: GITHUB_OIDC_URL, clientIdLists: [STS_AUDIENCE], thumbprintLists: GITHUB_THUMBPRINTS },
          kept,
        ).arn;

    this.stateKey = new aws.kms.Key(
      "state",
      {
        description: `Pulumi state of ${c.project}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([partition, accountId]).apply(([p, a]) => JSON.stringify(stateKeyPolicy(p, a))),
      },
      { ...kept, retainOnDelete: true },
    );
    new aws.kms.Alias("state", { name: `alias/${c.project}-ci-state`, targetKeyId: this.stateKey.keyId }, parent);

    this.logBucket = bucket(
      "state-logs",
      { prefix: "pulumi-state-logs-", sse: "s3-managed", expireDays: 365 },
      c,
      this,
    );
    bucketPolicy("state-logs", this.logBucket, accountId, this, (arn, account) => [
      {
        Sid: "S3ServerAccessLogs",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${arn}/*`,
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ]);
    this.stateBucket = bucket(
      "state",
      { prefix: "pulumi-state-", sse: { kmsKeyArn: this.stateKey.arn }, noncurrentDays: c.stateVersionDays },
      c,
      this,
    );
    new aws.s3.BucketLogging(
      "state",
      { bucket: this.stateBucket.id, targetBucket: this.logBucket.id, targetPrefix: "state/" },
      parent,
    );
    bucketPolicy("state", this.stateBucket, accountId, this, () => []);

    const previewName = previewRoleName(c.project);
    const previewSubjects = [
      environmentSubject(c.repository, c.preview.environment),
      ...(c.preview.pullRequests ? [pullRequestSubject(c.repository)] : []),
    ];
    this.previewRole = new aws.iam.Role(
      "preview",
      {
        name: previewName,
        description: `pulumi preview of ${c.repository}: read-only`,
        maxSessionDuration: 3600,
        assumeRolePolicy: this.providerArn.apply((arn) => JSON.stringify(githubTrustPolicy(arn, previewSubjects))),
      },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      "preview-read-only",
      { role: this.previewRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/ReadOnlyAccess` },
      parent,
    );

    const ciRoleArns = [previewName, ...c.stacks.map((s) => deployRoleName(c.project, s.name))].map(roleArn);
    const ciIamArns = pulumi
      .all([...ciRoleArns, this.providerArn])
      .apply((arns) => [...arns, ...arns.slice(0, -1).map((a) => a.replace(":role/", ":policy/"))]);

    // Every role first: KMS refuses a key policy naming a principal that does not exist yet, and
    // each key's policy names all CI roles.
    const deployRoles = new Map<string, aws.iam.Role>();
    for (const s of c.stacks) {
      deployRoles.set(
        s.name,
        new aws.iam.Role(
          `deploy-${s.name}`,
          {
            name: deployRoleName(c.project, s.name),
            description: `pulumi up of ${c.project} stack ${s.name} from ${c.repository}`,
            maxSessionDuration: 3600,
            assumeRolePolicy: this.providerArn.apply((arn) =>
              JSON.stringify(
                githubTrustPolicy(
                  arn,
                  s.environments.map((e) => environmentSubject(c.repository, e)),
                ),
              ),
            ),
          },
          parent,
        ),
      );
    }
    const allRoleArns = pulumi.all([this.previewRole.arn, ...[...deployRoles.values()].map((r) => r.arn)]);

    this.stacks = {};
    for (const s of c.stacks) {
      const role = deployRoles.get(s.name)!;
      const readers = s.preview ? [this.previewRole.arn] : [];
      const key = new aws.kms.Key(
        `secrets-${s.name}`,
        {
          description: `Pulumi secrets of ${c.project} stack ${s.name}`,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          // The role ARNs come from the roles, so KMS sees them exist when the policy is set.
          policy: pulumi
            .all([partition, accountId, role.arn, pulumi.all(readers), allRoleArns])
            .apply(([p, a, writer, r, ci]) =>
              JSON.stringify(
                secretsKeyPolicy({
                  partition: p,
                  accountId: a,
                  writers: [writer, ...s.secretsUsers],
                  readers: r,
                  ciRoles: ci,
                }),
              ),
            ),
        },
        { ...kept, retainOnDelete: true },
      );
      const alias = new aws.kms.Alias(
        `secrets-${s.name}`,
        { name: `alias/${c.project}-${s.name}-secrets`, targetKeyId: key.keyId },
        parent,
      );
      this.stacks[s.name] = {
        role,
        key,
        alias,
        secretsProvider: pulumi.interpolate`awskms://${alias.name}?region=${c.region}`,
      };
    }

    const keyArns = pulumi.all([this.stateKey.arn, ...c.stacks.map((s) => this.stacks[s.name]!.key.arn)]);
    const bucketArns = pulumi.all([this.stateBucket.arn, this.logBucket.arn]);
    for (const s of c.stacks) {
      const access = this.stacks[s.name]!;
      new aws.iam.RolePolicy(
        `deploy-${s.name}`,
        {
          role: access.role.id,
          policy: pulumi
            .all([
              partition,
              accountId,
              this.stateBucket.arn,
              this.stateKey.arn,
              access.key.arn,
              keyArns,
              bucketArns,
              ciIamArns,
            ])
            .apply(([p, a, stateBucketArn, stateKeyArn, secretsKeyArn, bootstrapKeyArns, bootstrapBucketArns, ci]) =>
              JSON.stringify(
                deployPolicy({
                  partition: p,
                  accountId: a,
                  region: c.region,
                  project: c.project,
                  stack: s.name,
                  stateBucketArn,
                  stateKeyArn,
                  secretsKeyArn,
                  bootstrapKeyArns,
                  bootstrapBucketArns,
                  ciIamArns: ci,
                }),
              ),
            ),
        },
        parent,
      );
    }
    const previewed = c.stacks.filter((s) => s.preview);
    new aws.iam.RolePolicy(
      "preview",
      {
        role: this.previewRole.id,
        policy: pulumi
          .all([
            this.stateBucket.arn,
            this.stateKey.arn,
            pulumi.all(previewed.map((s) => this.stacks[s.name]!.key.arn)),
          ])
          .apply(([stateBucketArn, stateKeyArn, arns]) =>
            JSON.stringify(
              previewPolicy({
                stateBucketArn,
                stateKeyArn,
                region: c.region,
                project: c.project,
                stacks: previewed.map((s, i) => ({ name: s.name, secretsKeyArn: arns[i]! })),
              }),
            ),
          ),
      },
      parent,
    );

    this.backendUrl = pulumi.interpolate`s3://${this.stateBucket.bucket}?region=${c.region}`;
    this.registerOutputs({ backendUrl: this.backendUrl });
  }
}

interface BucketOptions {
  prefix: string;
  /** "s3-managed" (SSE-S3) for the access-log bucket, since S3 delivers server access logs only so; else a KMS key. */
  sse: "s3-managed" | { kmsKeyArn: pulumi.Input<string> };
  /** Current objects expire after this many days. @default never */
  expireDays?: number;
  /** Overwritten versions are kept this many days. @default 30 */
  noncurrentDays?: number;
}

/** A private, versioned, encrypted bucket with its lifecycle, never force-destroyed. */
function bucket(name: string, o: BucketOptions, c: BootstrapConfig, parent: pulumi.Resource): aws.s3.Bucket {
  const b = new aws.s3.Bucket(name, { bucketPrefix: o.prefix, forceDestroy: false }, { parent, protect: c.protect });
  const id = b.id;
  new aws.s3.BucketOwnershipControls(
    name,
    { bucket: id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent },
  );
  new aws.s3.BucketPublicAccessBlock(
    name,
    { bucket: id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { parent },
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      bucket: id,
      rules: [
        o.sse === "s3-managed"
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }
          : {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: o.sse.kmsKeyArn },
              bucketKeyEnabled: true,
            },
      ],
    },
    { parent },
  );
  new aws.s3.BucketVersioning(name, { bucket: id, versioningConfiguration: { status: "Enabled" } }, { parent });
  new aws.s3.BucketLifecycleConfiguration(
    name,
    {
      bucket: id,
      rules: [
        {
          id: "retention",
          status: "Enabled",
          filter: {},
          ...(o.expireDays !== undefined ? { expiration: { days: o.expireDays } } : {}),
          noncurrentVersionExpiration: { noncurrentDays: o.noncurrentDays ?? 30 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    { parent },
  );
  return b;
}

/** The bucket's policy: TLS only, plus `extra` statements. */
function bucketPolicy(
  name: string,
  b: aws.s3.Bucket,
  accountId: pulumi.Output<string>,
  parent: pulumi.Resource,
  extra: (arn: string, accountId: string) => Array<Record<string, unknown>>,
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    name,
    {
      bucket: b.id,
      policy: pulumi.all([b.arn, accountId]).apply(([arn, account]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [arn, `${arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            ...extra(arn, account),
          ],
        }),
      ),
    },
    { parent },
  );
}
