/**
 * The CI bootstrap's policy documents, as pure functions of names and ARNs (R-ci-oidc-trust,
 * R-ci-least-privilege, R-ci-secrets-key): the tests read them value by value, and `ci.ts` only
 * fills in the ARNs.
 */

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience `aws-actions/configure-aws-credentials` requests. */
export const STS_AUDIENCE = "sts.amazonaws.com";
/**
 * GitHub's published thumbprints (GitHub changelog, 2023-06-27: both intermediates). IAM now
 * verifies GitHub's tokens against its own trusted root CAs and keeps the list without using it,
 * so the list only matters to tools that still read it.
 */
export const GITHUB_THUMBPRINTS = [
  "6938fd4d98bab03faadb97b34396831e3780aea1",
  "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
];

type Statement = Record<string, unknown>;
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

const doc = (statements: Statement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });

/**
 * The `sub` claims GitHub puts in a job's token: `repo:<owner>/<repo>:environment:<name>` for a job
 * that names an environment (whatever the event), `repo:<owner>/<repo>:pull_request` for a
 * pull-request job without one (GitHub's OIDC reference, "Example subject claims").
 */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

export function pullRequestSubject(repository: string): string {
  return `repo:${repository}:pull_request`;
}

/**
 * Trust for GitHub Actions jobs whose token carries exactly one of `subjects`: StringEquals on both
 * `aud` and `sub`, never StringLike, so no other repository, branch or environment matches.
 */
export function githubTrustPolicy(providerArn: string, subjects: readonly string[]): PolicyDocument {
  return doc([
    {
      Sid: "GitHubActionsJobs",
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: subjects.length === 1 ? subjects[0] : [...subjects],
        },
      },
    },
  ]);
}

/** Where the Pulumi S3 (DIY) backend keeps one stack: its checkpoint, history, backups and update locks. */
export function stackStateObjects(bucketArn: string, project: string, stack: string): string[] {
  return [
    `${bucketArn}/.pulumi/stacks/${project}/${stack}.json*`,
    `${bucketArn}/.pulumi/history/${project}/${stack}/*`,
    `${bucketArn}/.pulumi/backups/${project}/${stack}/*`,
    // Locks are named by the fully qualified stack, whose organization is always "organization" here.
    `${bucketArn}/.pulumi/locks/organization/${project}/${stack}/*`,
  ];
}

/** What every CI role needs of the state bucket: list it, read the backend's own metadata. */
function stateBucketBasics(bucketArn: string, stateKeyArn: string, region: string): Statement[] {
  return [
    { Sid: "ListState", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn },
    { Sid: "ReadBackendMeta", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/.pulumi/meta.yaml` },
    {
      Sid: "StateEncryption",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: stateKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    },
  ];
}

/**
 * Reads of data that AWS's ReadOnlyAccess allows and a preview never needs: secret values,
 * parameters, table items, queue messages and log events.
 */
export const PREVIEW_DENIED_READS = [
  "secretsmanager:GetSecretValue",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "sqs:ReceiveMessage",
  "logs:GetLogEvents",
  "logs:FilterLogEvents",
  "logs:StartQuery",
  "logs:GetQueryResults",
] as const;

export interface PreviewPolicyArgs {
  stateBucketArn: string;
  stateKeyArn: string;
  region: string;
  project: string;
  /** The stacks the preview role previews, each with its secrets key. */
  stacks: ReadonlyArray<{ name: string; secretsKeyArn: string }>;
}

/**
 * The preview role's own policy, on top of AWS's ReadOnlyAccess: read the previewed stacks' state
 * (a preview writes nothing, not even a lock), decrypt their secrets, and never read data: no
 * object outside the state, no secret value.
 */
export function previewPolicy(a: PreviewPolicyArgs): PolicyDocument {
  return doc([
    ...stateBucketBasics(a.stateBucketArn, a.stateKeyArn, a.region),
    {
      Sid: "ReadStackState",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: a.stacks.flatMap((s) => stackStateObjects(a.stateBucketArn, a.project, s.name)),
    },
    ...(a.stacks.length > 0
      ? [
          {
            Sid: "DecryptStackSecrets",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: a.stacks.map((s) => s.secretsKeyArn),
          },
        ]
      : []),
    {
      Sid: "NeverReadData",
      Effect: "Deny",
      Action: [...PREVIEW_DENIED_READS],
      Resource: "*",
    },
    {
      // ReadOnlyAccess reads every object; the preview reads only the previewed stacks' state.
      Sid: "NeverReadOtherObjects",
      Effect: "Deny",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      NotResource: [
        `${a.stateBucketArn}/.pulumi/meta.yaml`,
        ...a.stacks.flatMap((s) => stackStateObjects(a.stateBucketArn, a.project, s.name)),
      ],
    },
  ]);
}

/** The AWS services the opsbook program declares resources in, besides IAM, S3 and KMS (below). */
export const DEPLOY_SERVICES = [
  "acm",
  "application-autoscaling",
  "cloudwatch",
  "ec2",
  "ecr",
  "ecs",
  "elasticache",
  "elasticloadbalancing",
  "events",
  "logs",
  "rds",
  "route53",
  "scheduler",
  "secretsmanager",
  "sns",
  "wafv2",
] as const;

/** The services the program's roles are for (task, execution, scheduler, RDS monitoring, flow logs roles). */
export const DEPLOY_PASSED_SERVICES = [
  "ecs-tasks.amazonaws.com",
  "monitoring.rds.amazonaws.com",
  "s3.amazonaws.com",
  "scheduler.amazonaws.com",
  "vpc-flow-logs.amazonaws.com",
] as const;

/** What a deploy does with IAM: the program's roles and their inline and attached policies. */
export const DEPLOY_IAM_ACTIONS = [
  "iam:AttachRolePolicy",
  "iam:CreateRole",
  "iam:DeleteRole",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:GetRole",
  "iam:GetRolePolicy",
  "iam:ListAttachedRolePolicies",
  "iam:ListInstanceProfilesForRole",
  "iam:ListRolePolicies",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
] as const;

/** The KMS actions of the program's own keys (logs, data, backups, app secrets). */
export const DEPLOY_KMS_ACTIONS = [
  "kms:CreateAlias",
  "kms:CreateGrant",
  "kms:CreateKey",
  "kms:Decrypt",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:EnableKeyRotation",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

/** Anything that would change a CI role, its policies or the OIDC provider: refused to every CI role. */
export const IAM_WRITE_ACTIONS = [
  "iam:AttachRolePolicy",
  "iam:DeleteRole",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:TagRole",
  "iam:UntagRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:AddClientIDToOpenIDConnectProvider",
  "iam:DeleteOpenIDConnectProvider",
  "iam:RemoveClientIDFromOpenIDConnectProvider",
  "iam:UpdateOpenIDConnectProviderThumbprint",
  "iam:CreatePolicyVersion",
  "iam:SetDefaultPolicyVersion",
  "iam:DeletePolicy",
] as const;

/** What must never be done to the bootstrap's keys by a CI role. */
export const KEY_ADMIN_ACTIONS = [
  "kms:PutKeyPolicy",
  "kms:CreateGrant",
  "kms:ScheduleKeyDeletion",
  "kms:DisableKey",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:TagResource",
  "kms:UntagResource",
] as const;

export interface DeployPolicyArgs {
  partition: string;
  accountId: string;
  region: string;
  project: string;
  stack: string;
  stateBucketArn: string;
  stateKeyArn: string;
  /** Every bucket of the bootstrap (state, access logs): only the stack's own state objects are reachable. */
  bootstrapBucketArns: readonly string[];
  /** This stack's secrets key. */
  secretsKeyArn: string;
  /** Every key of the bootstrap (state key, every stack's secrets key). */
  bootstrapKeyArns: readonly string[];
  /** Every CI role and policy, and the OIDC provider: no CI role changes them. */
  ciIamArns: readonly string[];
}

/**
 * A deploy role's policy: read and write its own stack's state (and nothing of another stack's),
 * encrypt and decrypt its own secrets, and the actions `pulumi up` of the opsbook program needs,
 * on its own resources where IAM allows a name pattern (buckets `<project>-*`). IAM roles may be
 * created and passed only to the services the program passes them to, and nothing may touch the
 * CI roles, the OIDC provider, the state bucket's settings or the bootstrap's keys.
 */
export function deployPolicy(a: DeployPolicyArgs): PolicyDocument {
  const iamArn = (resource: string) => `arn:${a.partition}:iam::${a.accountId}:${resource}`;
  const otherKeys = a.bootstrapKeyArns.filter((k) => k !== a.secretsKeyArn && k !== a.stateKeyArn);
  const s3Arn = (resource: string) => `arn:${a.partition}:s3:::${resource}`;
  return doc([
    ...stateBucketBasics(a.stateBucketArn, a.stateKeyArn, a.region),
    {
      Sid: "StackState",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: stackStateObjects(a.stateBucketArn, a.project, a.stack),
    },
    {
      Sid: "StackSecrets",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
      Resource: a.secretsKeyArn,
    },
    {
      Sid: "PlatformServices",
      Effect: "Allow",
      Action: DEPLOY_SERVICES.map((s) => `${s}:*`),
      Resource: "*",
    },
    { Sid: "PlatformKeys", Effect: "Allow", Action: [...DEPLOY_KMS_ACTIONS], Resource: "*" },
    {
      Sid: "PlatformBuckets",
      Effect: "Allow",
      Action: "s3:*",
      Resource: [s3Arn(`${a.project}-*`), s3Arn(`${a.project}-*/*`)],
    },
    {
      Sid: "PlatformRoles",
      Effect: "Allow",
      Action: [...DEPLOY_IAM_ACTIONS],
      Resource: iamArn("role/*"),
    },
    {
      Sid: "PassPlatformRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: iamArn("role/*"),
      Condition: { StringEquals: { "iam:PassedToService": [...DEPLOY_PASSED_SERVICES] } },
    },
    {
      Sid: "ServiceLinkedRoles",
      Effect: "Allow",
      Action: "iam:CreateServiceLinkedRole",
      Resource: iamArn("role/aws-service-role/*"),
    },
    {
      Sid: "NeverChangeCi",
      Effect: "Deny",
      Action: [...IAM_WRITE_ACTIONS, "iam:PassRole"],
      Resource: [...a.ciIamArns],
    },
    {
      Sid: "NeverAdministerBootstrapKeys",
      Effect: "Deny",
      Action: [...KEY_ADMIN_ACTIONS],
      Resource: [...a.bootstrapKeyArns],
    },
    ...(otherKeys.length > 0
      ? [
          {
            Sid: "NeverOtherStacksSecrets",
            Effect: "Deny",
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey"],
            Resource: otherKeys,
          },
        ]
      : []),
    {
      Sid: "NeverChangeBootstrapBuckets",
      Effect: "Deny",
      Action: [
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketLogging",
        "s3:PutBucketOwnershipControls",
      ],
      Resource: [...a.bootstrapBucketArns],
    },
  ]);
}

export interface SecretsKeyPolicyArgs {
  partition: string;
  accountId: string;
  /** Roles that encrypt and decrypt the stack's secrets: its deploy role and the people named in config. */
  writers: readonly string[];
  /** Roles that only decrypt: the preview role when it previews the stack. */
  readers: readonly string[];
  /** Every CI role: none of them administers a key. */
  ciRoles: readonly string[];
}

/**
 * The key policy of one stack's `awskms://` secrets key (R-ci-secrets-key). The account
 * administers the key through IAM (so it can never become unmanageable) but may not use it:
 * encrypting and decrypting are granted here, by name, to that stack's roles only, and no IAM
 * policy can add a user, since the key policy does not delegate use to IAM. Grants are refused, so
 * no one can hand the key on either.
 */
export function secretsKeyPolicy(a: SecretsKeyPolicyArgs): PolicyDocument {
  const root = `arn:${a.partition}:iam::${a.accountId}:root`;
  return doc([
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: root },
      Action: [
        "kms:CancelKeyDeletion",
        "kms:DescribeKey",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:EnableKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:ListKeyPolicies",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:RevokeGrant",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ],
      Resource: "*",
    },
    {
      Sid: "StackRolesEncryptAndDecrypt",
      Effect: "Allow",
      Principal: { AWS: [...a.writers] },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
    },
    ...(a.readers.length > 0
      ? [
          {
            Sid: "PreviewDecrypts",
            Effect: "Allow",
            Principal: { AWS: [...a.readers] },
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: "*",
          },
        ]
      : []),
    {
      Sid: "CiRolesNeverAdminister",
      Effect: "Deny",
      Principal: { AWS: [...a.ciRoles] },
      Action: [...KEY_ADMIN_ACTIONS],
      Resource: "*",
    },
  ]);
}

/** The state bucket's key: the account delegates to IAM; the roles' policies use it through S3 only. */
export function stateKeyPolicy(partition: string, accountId: string): PolicyDocument {
  return doc([
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ]);
}
