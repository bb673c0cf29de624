import * as iam from "../../rules/iam";
import { violations } from "../helpers";

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

const doc = (...Statement: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement });
/** What the shipped task roles allow: specific actions, ARNs, and the one action that needs "*". */
const scoped = doc(
  {
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:api:*",
  },
  { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
  { Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/prod-backup-task" },
);
const trust = doc({
  Effect: "Allow",
  Principal: { Service: "ecs-tasks.amazonaws.com" },
  Action: "sts:AssumeRole",
  Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
});

describe("iam-no-admin-managed-policies", () => {
  test("passes a service-role managed policy", async () => {
    expect(
      await violations(iam.iamNoAdminManagedPolicies, ATTACHMENT, {
        role: "db-monitoring",
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
      }),
    ).toEqual([]);
  });

  test.each(["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])("reports %s attached", async (name) => {
    expect(
      await violations(
        iam.iamNoAdminManagedPolicies,
        ATTACHMENT,
        { role: "ci", policyArn: `arn:aws:iam::aws:policy/${name}` },
        { name: "ci-admin" },
      ),
    ).toEqual([
      `IAM role policy attachment "ci-admin": policyArn is "arn:aws:iam::aws:policy/${name}"; required: none of the AWS-managed policies AdministratorAccess, PowerUserAccess, IAMFullAccess. Fix: remove the ${name} attachment; grant the specific actions on the specific resources in a policy of its own.`,
    ]);
  });

  test("reports one in a role's managedPolicyArns, in any partition", async () => {
    expect(
      await violations(iam.iamNoAdminManagedPolicies, ROLE, {
        assumeRolePolicy: trust,
        managedPolicyArns: ["arn:aws-cn:iam::aws:policy/AdministratorAccess"],
      }),
    ).toEqual([expect.stringContaining('managedPolicyArns[0] is "arn:aws-cn:iam::aws:policy/AdministratorAccess"')]);
  });
});

describe("iam-no-escalation-actions", () => {
  test("passes scoped actions, and a Deny of anything", async () => {
    expect(await violations(iam.iamNoEscalation, ROLE_POLICY, { role: "api-task", policy: scoped })).toEqual([]);
    expect(
      await violations(iam.iamNoEscalation, ROLE_POLICY, {
        policy: doc({ Effect: "Deny", Action: "*", Resource: "*" }),
      }),
    ).toEqual([]);
  });

  test.each(["*", "iam:*", "sts:*", "IAM:*"])("reports %s, even on a specific resource", async (action) => {
    expect(
      await violations(
        iam.iamNoEscalation,
        ROLE_POLICY,
        { policy: doc({ Effect: "Allow", Action: [action], Resource: "arn:aws:s3:::bucket" }) },
        { name: "task" },
      ),
    ).toEqual([
      `IAM role policy "task": policy Statement[0] Action is ${JSON.stringify([action])}; required: none of ["*","iam:*","sts:*"]. Fix: list the specific actions the principal calls.`,
    ]);
  });

  test("reports iam:PassRole and wildcards that grant privilege escalation on every resource", async () => {
    expect(
      await violations(
        iam.iamNoEscalation,
        ROLE,
        {
          assumeRolePolicy: trust,
          inlinePolicies: [{ name: "x", policy: doc({ Effect: "Allow", Action: ["iam:PassRole"], Resource: "*" }) }],
        },
        { name: "scheduler" },
      ),
    ).toEqual([
      'IAM role "scheduler": inlinePolicies[0].policy Statement[0] is Allow of ["iam:PassRole"] on "*", which grants iam:PassRole; required: privilege-granting actions only on the ARNs they are needed on. Fix: replace Resource "*" with the ARNs (for iam:PassRole, the roles the service passes) or drop the actions.',
    ]);
    expect(
      await violations(iam.iamNoEscalation, ROLE_POLICY, {
        policy: doc({ Effect: "Allow", Action: "iam:Put*Policy", Resource: ["*"] }),
      }),
    ).toEqual([expect.stringContaining("which grants iam:PutRolePolicy, iam:PutUserPolicy, iam:PutGroupPolicy")]);
  });

  test("actionMatches reads IAM wildcards case-insensitively", () => {
    expect(iam.actionMatches("iam:Pass*", "iam:PassRole")).toBe(true);
    expect(iam.actionMatches("IAM:passrole", "iam:PassRole")).toBe(true);
    expect(iam.actionMatches("iam:Get*", "iam:PassRole")).toBe(false);
    expect(iam.actionMatches("s3:?etObject", "s3:GetObject")).toBe(true);
  });
});

describe("iam-no-not-action-allow", () => {
  test("passes an Allow of listed actions and a Deny with NotAction", async () => {
    expect(await violations(iam.iamNoNotActionAllow, ROLE_POLICY, { policy: scoped })).toEqual([]);
    expect(
      await violations(iam.iamNoNotActionAllow, ROLE_POLICY, {
        policy: doc({ Effect: "Deny", NotAction: "s3:GetObject", Resource: "*" }),
      }),
    ).toEqual([]);
  });

  test("reports NotAction and NotResource in an Allow", async () => {
    expect(
      await violations(
        iam.iamNoNotActionAllow,
        "aws:iam/policy:Policy",
        { policy: doc({ Effect: "Allow", NotAction: "iam:*", NotResource: "arn:aws:s3:::x" }) },
        { name: "everything-but-iam" },
      ),
    ).toEqual([
      'IAM policy "everything-but-iam": policy Statement[0] NotAction is "iam:*" in an Allow; required: Action and Resource lists. Fix: replace NotAction with the actions the principal uses.',
      'IAM policy "everything-but-iam": policy Statement[0] NotResource is "arn:aws:s3:::x" in an Allow; required: Action and Resource lists. Fix: replace NotResource with the resources the principal uses.',
    ]);
  });
});

describe("iam-trust-not-public", () => {
  test("passes a service principal, and AWS * narrowed by a condition", async () => {
    expect(await violations(iam.iamTrustNotPublic, ROLE, { assumeRolePolicy: trust })).toEqual([]);
    expect(
      await violations(iam.iamTrustNotPublic, ROLE, {
        assumeRolePolicy: doc({
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } },
        }),
      }),
    ).toEqual([]);
  });

  test("reports Principal * and AWS * without a condition", async () => {
    expect(
      await violations(
        iam.iamTrustNotPublic,
        ROLE,
        {
          assumeRolePolicy: doc(
            { Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" },
            { Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:root", "*"] }, Action: "sts:AssumeRole" },
          ),
        },
        { name: "open" },
      ),
    ).toEqual([
      'IAM role "open": assumeRolePolicy Statement[0] Principal is "*" with no Condition; required: the service, account or identity provider that assumes the role. Fix: set Principal to { Service: "<service>.amazonaws.com" } (or the account / OIDC provider) with an aws:SourceAccount condition.',
      'IAM role "open": assumeRolePolicy Statement[1] Principal is {"AWS":["arn:aws:iam::123456789012:root","*"]} with no Condition; required: the service, account or identity provider that assumes the role. Fix: set Principal to { Service: "<service>.amazonaws.com" } (or the account / OIDC provider) with an aws:SourceAccount condition.',
    ]);
  });
});
