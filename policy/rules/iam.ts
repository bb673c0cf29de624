/**
 * IAM beyond `iam-no-admin-wildcards`: no AWS-managed administrator policies, no actions that grant
 * everything in IAM or STS or let a principal raise its own privileges, no `NotAction` allows, and
 * no role that anyone may assume (R-security-least-privilege).
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, asList, policyDocument, resourceRule, show, statements } from "./common";

const ROLE = "aws:iam/role:Role";

/** Identity policies, by type token, as messages name them. */
export const IDENTITY_POLICIES: Record<string, string> = {
  "aws:iam/policy:Policy": "IAM policy",
  "aws:iam/rolePolicy:RolePolicy": "IAM role policy",
  "aws:iam/userPolicy:UserPolicy": "IAM user policy",
  "aws:iam/groupPolicy:GroupPolicy": "IAM group policy",
  [ROLE]: "IAM role",
};

/** Resources that attach a managed policy by ARN. */
const ATTACHMENTS: Record<string, string> = {
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM role policy attachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": "IAM user policy attachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "IAM group policy attachment",
  "aws:iam/policyAttachment:PolicyAttachment": "IAM policy attachment",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "IAM role policy attachments",
  [ROLE]: "IAM role",
};

const POLICY_PREVIEW =
  "a policy document built from ARNs of resources created in the same update is unknown; the engine then reports this rule as advisory until the update.";

/** The identity policy documents a resource declares, with where each is. */
export function documentsOf(type: string, props: Record<string, unknown>): Array<{ where: string; policy: unknown }> {
  if (type === ROLE)
    return ((props as Unwrap<aws.iam.RoleArgs>).inlinePolicies ?? []).map((p, i) => ({
      where: `inlinePolicies[${i}].policy`,
      policy: p.policy,
    }));
  return [{ where: "policy", policy: props.policy }];
}

/** Does the IAM action pattern (with * and ?) match the action? Case-insensitive, as IAM is. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(action);
}

const ADMIN_POLICIES = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/** The AWS-managed policy an ARN names, if it is one of `names`: "arn:aws:iam::aws:policy/AdministratorAccess". */
function managedPolicyName(arn: unknown, names: string[]): string | undefined {
  if (typeof arn !== "string") return undefined;
  const m = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m && names.includes(m[1]!) ? m[1] : undefined;
}

export const iamNoAdminManagedPolicies = resourceRule<Record<string, unknown>, { forbiddenPolicies: string[] }>({
  name: "iam-no-admin-managed-policies",
  description:
    "No role, user or group gets an AWS-managed administrator policy (AdministratorAccess, PowerUserAccess, IAMFullAccess).",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["IAM.1", "CKV_AWS_274", "runbook 003"],
  types: Object.keys(ATTACHMENTS),
  kind: (type) => ATTACHMENTS[type] ?? "IAM attachment",
  preview:
    "a policy ARN built from outputs is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Detach the managed policy and give the principal an inline or customer-managed policy with the actions and resources it uses.",
  config: {
    forbiddenPolicies: {
      type: "array",
      items: { type: "string" },
      default: ADMIN_POLICIES,
      description: "Names of AWS-managed policies no principal may have.",
    },
  },
  check: ({ type, props, report }, config) => {
    const arns: Array<{ where: string; arn: unknown }> =
      type === ROLE
        ? ((props as Unwrap<aws.iam.RoleArgs>).managedPolicyArns ?? []).map((arn, i) => ({
            where: `managedPolicyArns[${i}]`,
            arn,
          }))
        : type === "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
          ? asList(props.policyArns).map((arn, i) => ({ where: `policyArns[${i}]`, arn }))
          : [{ where: "policyArn", arn: props.policyArn }];
    for (const { where, arn } of arns) {
      const name = managedPolicyName(arn, config.forbiddenPolicies);
      if (name)
        report(
          where,
          show(arn),
          `none of the AWS-managed policies ${config.forbiddenPolicies.join(", ")}`,
          `remove the ${name} attachment; grant the specific actions on the specific resources in a policy of its own`,
        );
    }
  },
});

/** Actions no policy may allow anywhere, and actions that raise privileges when allowed on every resource. */
const ESCALATION = {
  anywhere: ["*", "iam:*", "sts:*"],
  onAnyResource: [
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AddUserToGroup",
    "iam:CreateRole",
    "sts:AssumeRole",
    "lambda:UpdateFunctionCode",
  ],
};

export const iamNoEscalation = resourceRule<
  Record<string, unknown>,
  { forbiddenActions: string[]; forbiddenOnAnyResource: string[] }
>({
  name: "iam-no-escalation-actions",
  description:
    'No identity policy allows "*", "iam:*" or "sts:*" on anything, or an action that raises privileges (iam:PassRole, iam:PutRolePolicy, sts:AssumeRole, ...) on every resource.',
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["IAM.1", "IAM.21", "CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_289", "CKV_AWS_290", "runbook 003"],
  types: Object.keys(IDENTITY_POLICIES),
  kind: (type) => IDENTITY_POLICIES[type] ?? "IAM policy",
  preview: POLICY_PREVIEW,
  remediationSteps:
    "List the specific actions the principal calls and, for iam:PassRole and the other privilege-granting actions, the ARNs of the roles or resources it may act on.",
  config: {
    forbiddenActions: {
      type: "array",
      items: { type: "string" },
      default: ESCALATION.anywhere,
      description: "Action patterns no Allow statement may contain, whatever its resources.",
    },
    forbiddenOnAnyResource: {
      type: "array",
      items: { type: "string" },
      default: ESCALATION.onAnyResource,
      description: 'Actions no Allow statement may grant with Resource "*" (matched by the statement\'s patterns too).',
    },
  },
  check: ({ type, props, report }, config) => {
    for (const { where, policy } of documentsOf(type, props)) {
      statements(policyDocument(policy)).forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        const actions = asList(s.Action).filter((a): a is string => typeof a === "string");
        const wild = actions.filter((a) => config.forbiddenActions.some((f) => f.toLowerCase() === a.toLowerCase()));
        if (wild.length > 0)
          report(
            `${where} Statement[${i}] Action`,
            show(wild),
            `none of ${show(config.forbiddenActions)}`,
            "list the specific actions the principal calls",
          );
        if (!asList(s.Resource).includes("*")) return;
        const escalating = config.forbiddenOnAnyResource.filter((e) => actions.some((a) => actionMatches(a, e)));
        const reported = escalating.filter((e) => !wild.some((w) => actionMatches(w, e)));
        if (reported.length > 0)
          report(
            `${where} Statement[${i}]`,
            `Allow of ${show(actions)} on "*", which grants ${reported.join(", ")}`,
            "privilege-granting actions only on the ARNs they are needed on",
            'replace Resource "*" with the ARNs (for iam:PassRole, the roles the service passes) or drop the actions',
          );
      });
    }
  },
});

export const iamNoNotActionAllow = resourceRule<Record<string, unknown>>({
  name: "iam-no-not-action-allow",
  description:
    "No identity policy allows with NotAction or NotResource: an allow list grows with every new AWS action.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["IAM.1", "runbook 003"],
  types: Object.keys(IDENTITY_POLICIES),
  kind: (type) => IDENTITY_POLICIES[type] ?? "IAM policy",
  preview: POLICY_PREVIEW,
  remediationSteps:
    "Rewrite the statement as an Allow of the listed actions on the listed resources (Deny with NotAction is fine).",
  check: ({ type, props, report }) => {
    for (const { where, policy } of documentsOf(type, props)) {
      statements(policyDocument(policy)).forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        for (const key of ["NotAction", "NotResource"] as const)
          if (s[key] !== undefined)
            report(
              `${where} Statement[${i}] ${key}`,
              `${show(s[key])} in an Allow`,
              `Action and Resource lists`,
              `replace ${key} with the ${key === "NotAction" ? "actions" : "resources"} the principal uses`,
            );
      });
    }
  },
});

/** Does a Principal name everyone: "*" itself, or an AWS principal "*" (also in a list)? */
function openPrincipal(principal: unknown): "*" | "AWS: *" | undefined {
  if (principal === "*") return "*";
  if (principal !== null && typeof principal === "object") {
    const aws = (principal as Record<string, unknown>).AWS;
    if (asList(aws).includes("*")) return "AWS: *";
  }
  return undefined;
}

export const iamTrustNotPublic = resourceRule<Unwrap<aws.iam.RoleArgs>>({
  name: "iam-trust-not-public",
  description:
    'No role may be assumed by anyone: no trust statement allows Principal "*", or AWS "*" without a condition that narrows it.',
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["CKV_AWS_60", "CKV_AWS_61", "runbook 003"],
  types: [ROLE],
  kind: "IAM role",
  preview: POLICY_PREVIEW,
  remediationSteps:
    "Name the service (Service: ecs-tasks.amazonaws.com) or account that assumes the role, with aws:SourceAccount / aws:SourceArn conditions; for OIDC, a federated principal with sub and aud conditions.",
  check: ({ props, report }) => {
    statements(policyDocument(props.assumeRolePolicy)).forEach((s, i) => {
      if (s.Effect !== "Allow") return;
      const open = openPrincipal(s.Principal);
      const conditioned = s.Condition !== undefined && Object.keys(s.Condition as object).length > 0;
      if (open === "*" || (open === "AWS: *" && !conditioned))
        report(
          `assumeRolePolicy Statement[${i}] Principal`,
          `${show(s.Principal)}${conditioned ? "" : " with no Condition"}`,
          "the service, account or identity provider that assumes the role",
          'set Principal to { Service: "<service>.amazonaws.com" } (or the account / OIDC provider) with an aws:SourceAccount condition',
        );
    });
  },
});

export const iamPolicies: OpsbookPolicy[] = [
  iamNoAdminManagedPolicies,
  iamNoEscalation,
  iamNoNotActionAllow,
  iamTrustNotPublic,
];
