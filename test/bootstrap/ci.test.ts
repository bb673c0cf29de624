/**
 * The CI bootstrap program planned offline from its own stack file (`bootstrap/Pulumi.ci.yaml`):
 * the trust of every role, their permissions and the keys' policies value by value, and the policy
 * pack over the whole plan.
 */
import * as path from "node:path";
import { buildPlan, type Plan } from "../../tools/plan/plan";
import { checkPlan } from "../../tools/policy/cli";
import { idOfOne, one, policyOf } from "../helpers/mocks";

const ROOT = path.join(__dirname, "..", "..", "bootstrap");
const ACCOUNT = "123456789012";
/** The offline plan's placeholder for the declared provider's ARN: the trust must name that resource. */
const PROVIDER = "arn:aws:iam::123456789012:openidconnectprovider/github";

let plan: Plan;
beforeAll(async () => {
  plan = await buildPlan("ci", { root: ROOT });
});

const get = (type: string, name: string) => one(plan.resources, type, name);
/** The state bucket's name (its mock id). */
const stateId = () => idOfOne(plan.resources, "aws:s3/bucket:Bucket", "state");
const statements = (type: string, name: string, key = "policy") => policyOf(get(type, name), key).Statement;
const sid = (list: Array<Record<string, unknown>>, id: string) => {
  const found = list.find((s) => s.Sid === id);
  if (!found) throw new Error(`no statement ${id} in ${JSON.stringify(list.map((s) => s.Sid))}`);
  return found;
};

describe("the GitHub OIDC provider", () => {
  test("is GitHub's issuer for the STS audience, with GitHub's published thumbprints, protected", () => {
    const provider = get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github");
    expect(provider.inputs).toEqual({
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
      thumbprintLists: ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"],
    });
    expect(provider.protect).toBe(true);
  });
});

describe("trust: each role names exactly the repository and environment it serves", () => {
  const trust = (role: string) => statements("aws:iam/role:Role", role, "assumeRolePolicy");

  test.each([
    ["preview", "repo:example-org/opsbook:environment:preview"],
    ["deploy-staging", "repo:example-org/opsbook:environment:staging"],
    // The Rollback workflow's production environment shares the production role (Pulumi.ci.yaml).
    [
      "deploy-production",
      ["repo:example-org/opsbook:environment:production", "repo:example-org/opsbook:environment:production-rollback"],
    ],
  ])("%s trusts only %s, with StringEquals on aud and sub", (role, sub) => {
    expect(trust(role)).toEqual([
      {
        Sid: "GitHubActionsJobs",
        Effect: "Allow",
        Principal: { Federated: PROVIDER },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": sub,
          },
        },
      },
    ]);
  });

  test("no trust policy uses StringLike or a wildcard", () => {
    for (const role of ["preview", "deploy-staging", "deploy-production"]) {
      const text = get("aws:iam/role:Role", role).inputs.assumeRolePolicy as string;
      expect(text).not.toContain("StringLike");
      expect(text).not.toContain("*");
    }
  });

  test("the roles have fixed names and one-hour sessions", () => {
    expect(get("aws:iam/role:Role", "preview").inputs).toMatchObject({
      name: "opsbook-ci-preview",
      maxSessionDuration: 3600,
    });
    expect(get("aws:iam/role:Role", "deploy-production").inputs).toMatchObject({
      name: "opsbook-ci-deploy-production",
      maxSessionDuration: 3600,
    });
  });
});

describe("permissions", () => {
  const state = () => `arn:aws:s3:::${stateId()}`;
  const stackObjects = (stack: string) => [
    `${state()}/.pulumi/stacks/opsbook/${stack}.json*`,
    `${state()}/.pulumi/history/opsbook/${stack}/*`,
    `${state()}/.pulumi/backups/opsbook/${stack}/*`,
    `${state()}/.pulumi/locks/organization/opsbook/${stack}/*`,
  ];

  test("preview is AWS's ReadOnlyAccess, reads both stacks' state, writes none and reads no data", () => {
    expect(get("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "preview-read-only").inputs).toEqual({
      role: "opsbook-ci-preview",
      policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    const list = statements("aws:iam/rolePolicy:RolePolicy", "preview");
    expect(sid(list, "ReadStackState")).toEqual({
      Sid: "ReadStackState",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [...stackObjects("staging"), ...stackObjects("production")],
    });
    expect(list.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat())).not.toContain("s3:PutObject");
    expect(sid(list, "NeverReadOtherObjects")).toEqual({
      Sid: "NeverReadOtherObjects",
      Effect: "Deny",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      NotResource: [`${state()}/.pulumi/meta.yaml`, ...stackObjects("staging"), ...stackObjects("production")],
    });
    expect(sid(list, "NeverReadData")).toMatchObject({
      Effect: "Deny",
      Action: expect.arrayContaining(["secretsmanager:GetSecretValue"]) as unknown,
    });
  });

  test("a deploy role reads and writes its own stack's state only", () => {
    const list = statements("aws:iam/rolePolicy:RolePolicy", "deploy-staging");
    expect(sid(list, "StackState")).toEqual({
      Sid: "StackState",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: stackObjects("staging"),
    });
    expect(JSON.stringify(list)).not.toContain("/production");
    expect(sid(list, "StackSecrets")).toEqual({
      Sid: "StackSecrets",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
      Resource: "arn:aws:kms:eu-west-1:123456789012:key/secrets-staging",
    });
  });

  test("no allow is a wildcard action, iam:* or sts:*, and staging may never use production's key", () => {
    for (const role of ["deploy-staging", "deploy-production", "preview"]) {
      const actions = statements("aws:iam/rolePolicy:RolePolicy", role)
        .filter((s) => s.Effect === "Allow")
        .flatMap((s) => [s.Action].flat() as string[]);
      expect(actions.filter((a) => a === "*" || a === "iam:*" || a === "sts:*" || a === "kms:*")).toEqual([]);
    }
    const staging = statements("aws:iam/rolePolicy:RolePolicy", "deploy-staging");
    expect(sid(staging, "NeverOtherStacksSecrets")).toMatchObject({
      Effect: "Deny",
      Resource: ["arn:aws:kms:eu-west-1:123456789012:key/secrets-production"],
    });
  });

  test("roles are passed only to the services the program makes roles for, and CI roles are off limits", () => {
    const list = statements("aws:iam/rolePolicy:RolePolicy", "deploy-production");
    expect(sid(list, "PassPlatformRoles")).toEqual({
      Sid: "PassPlatformRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: `arn:aws:iam::${ACCOUNT}:role/*`,
      Condition: {
        StringEquals: {
          "iam:PassedToService": [
            "ecs-tasks.amazonaws.com",
            "monitoring.rds.amazonaws.com",
            "s3.amazonaws.com", // the dump bucket's DR replication role
            "scheduler.amazonaws.com",
            "vpc-flow-logs.amazonaws.com",
          ],
        },
      },
    });
    expect(sid(list, "NeverChangeCi")).toMatchObject({
      Effect: "Deny",
      Resource: [
        `arn:aws:iam::${ACCOUNT}:role/opsbook-ci-preview`,
        `arn:aws:iam::${ACCOUNT}:role/opsbook-ci-deploy-staging`,
        `arn:aws:iam::${ACCOUNT}:role/opsbook-ci-deploy-production`,
        PROVIDER,
        `arn:aws:iam::${ACCOUNT}:policy/opsbook-ci-preview`,
        `arn:aws:iam::${ACCOUNT}:policy/opsbook-ci-deploy-staging`,
        `arn:aws:iam::${ACCOUNT}:policy/opsbook-ci-deploy-production`,
      ],
    });
    expect(sid(list, "PlatformBuckets")).toEqual({
      Sid: "PlatformBuckets",
      Effect: "Allow",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::opsbook-*", "arn:aws:s3:::opsbook-*/*"],
    });
  });
});

describe("secrets keys: only the stack's roles decrypt", () => {
  test("production's key: its deploy role encrypts and decrypts, preview decrypts, the account only administers", () => {
    const key = get("aws:kms/key:Key", "secrets-production");
    expect(key.protect).toBe(true);
    expect(key.retainOnDelete).toBe(true);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const list = policyOf(key).Statement;
    const admin = sid(list, "AccountAdministersThroughIam");
    expect(admin.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
    expect(admin.Action).not.toContain("kms:Decrypt");
    expect(admin.Action).not.toContain("kms:Encrypt");
    expect(admin.Action).not.toContain("kms:CreateGrant");
    expect(admin.Action).not.toContain("kms:*");
    expect(sid(list, "StackRolesEncryptAndDecrypt")).toEqual({
      Sid: "StackRolesEncryptAndDecrypt",
      Effect: "Allow",
      Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:role/deploy-production`] },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
    });
    expect(sid(list, "PreviewDecrypts")).toEqual({
      Sid: "PreviewDecrypts",
      Effect: "Allow",
      Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:role/preview`] },
      Action: ["kms:Decrypt", "kms:DescribeKey"],
      Resource: "*",
    });
    const principals = list.filter((s) => s.Effect === "Allow").map((s) => JSON.stringify(s.Principal));
    expect(principals.join(" ")).not.toContain("deploy-staging");
    expect(sid(list, "CiRolesNeverAdminister")).toMatchObject({
      Effect: "Deny",
      Principal: {
        AWS: ["preview", "deploy-staging", "deploy-production"].map((r) => `arn:aws:iam::${ACCOUNT}:role/${r}`),
      },
      Action: expect.arrayContaining(["kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion"]) as unknown,
    });
    // KMS refuses a policy naming a role that does not exist yet: the key waits for every role.
    const roleUrns = ["preview", "deploy-staging", "deploy-production"].map((r) => get("aws:iam/role:Role", r).urn);
    expect(key.dependencies).toEqual(expect.arrayContaining(roleUrns));
  });

  test("the alias names the secrets provider each stack is created with", () => {
    expect(get("aws:kms/alias:Alias", "secrets-staging").inputs).toEqual({
      name: "alias/opsbook-staging-secrets",
      targetKeyId: "secrets-staging-key-id",
    });
    expect(plan.outputs.secretsProviders).toEqual({
      staging: "awskms://alias/opsbook-staging-secrets?region=eu-west-1",
      production: "awskms://alias/opsbook-production-secrets?region=eu-west-1",
    });
  });
});

describe("the state bucket", () => {
  test("is protected, versioned, KMS-encrypted, private, TLS-only and logged", () => {
    expect(get("aws:s3/bucket:Bucket", "state")).toMatchObject({
      protect: true,
      inputs: { bucketPrefix: "pulumi-state-", forceDestroy: false },
    });
    expect(get("aws:s3/bucketVersioning:BucketVersioning", "state").inputs.versioningConfiguration).toEqual({
      status: "Enabled",
    });
    expect(
      get("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "state").inputs
        .rules,
    ).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/state",
        },
        bucketKeyEnabled: true,
      },
    ]);
    expect(get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "state").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(statements("aws:s3/bucketPolicy:BucketPolicy", "state")).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${stateId()}`, `arn:aws:s3:::${stateId()}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    expect(get("aws:s3/bucketLogging:BucketLogging", "state").inputs).toMatchObject({ targetPrefix: "state/" });
    expect(plan.outputs.backendUrl).toBe(`s3://${stateId()}?region=eu-west-1`);
  });
});

describe("the policy pack", () => {
  test("finds no mandatory violation in the bootstrap's plan", async () => {
    const report = await checkPlan(plan);
    expect(report.diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  test("does read this plan: without versioning on the state bucket it fails", async () => {
    const broken = {
      ...plan,
      resources: plan.resources.filter(
        (r) => !(r.type === "aws:s3/bucketVersioning:BucketVersioning" && r.name === "state"),
      ),
    };
    const report = await checkPlan(broken);
    expect(report.diagnostics.map((d) => d.policyName)).toContain("s3-versioning-enabled");
    expect(report.exitCode).toBe(1);
  });
});
