/**
 * Keys and permissions: customer-managed keys rotate, and no IAM policy grants every action on
 * every resource. Key policies are resource policies (the account root holds `kms:*` on the key
 * itself by design) and are not IAM identity policies, so they are not checked here.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, asList, policyDocument, resourceRule, show, statements } from "./common";

export const KMS_KEY = "aws:kms/key:Key";
const IAM_POLICIES: Record<string, string> = {
  "aws:iam/policy:Policy": "IAM policy",
  "aws:iam/rolePolicy:RolePolicy": "IAM role policy",
  "aws:iam/userPolicy:UserPolicy": "IAM user policy",
  "aws:iam/groupPolicy:GroupPolicy": "IAM group policy",
  "aws:iam/role:Role": "IAM role",
};

type Key = Unwrap<aws.kms.KeyArgs>;

export const kmsKeyRotation = resourceRule<Key, { maximumRotationDays: number }>({
  name: "kms-key-rotation",
  description: "Every symmetric customer-managed KMS key rotates its key material, at least as often as configured.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_7", "KMS.4"],
  types: [KMS_KEY],
  kind: "KMS key",
  remediationSteps: "Set enableKeyRotation: true (and rotationPeriodInDays no longer than the maximum, if set).",
  config: {
    maximumRotationDays: {
      type: "integer",
      minimum: 90,
      maximum: 2560,
      default: 365,
      description: "Longest rotation period allowed.",
    },
  },
  check: ({ props, report }, config) => {
    if (props.customerMasterKeySpec !== undefined && props.customerMasterKeySpec !== "SYMMETRIC_DEFAULT") return;
    if (props.enableKeyRotation !== true)
      report("enableKeyRotation", show(props.enableKeyRotation), "true", "set enableKeyRotation: true");
    else if (
      typeof props.rotationPeriodInDays === "number" &&
      props.rotationPeriodInDays > config.maximumRotationDays
    ) {
      report(
        "rotationPeriodInDays",
        show(props.rotationPeriodInDays),
        `at most ${config.maximumRotationDays}`,
        `set rotationPeriodInDays: ${config.maximumRotationDays} or remove it (365)`,
      );
    }
  },
});

/** Indexes of Allow statements that grant every action on every resource. */
export function adminStatements(policy: unknown): number[] {
  return statements(policyDocument(policy)).flatMap((s, i) => {
    const anyAction = asList(s.Action).some((a) => a === "*" || a === "*:*");
    const anyResource = asList(s.Resource).includes("*");
    return s.Effect === "Allow" && anyAction && anyResource ? [i] : [];
  });
}

export const iamNoAdminWildcards = resourceRule<Record<string, unknown>>({
  name: "iam-no-admin-wildcards",
  description:
    'No IAM policy allows every action ("*") on every resource ("*"); each role gets the actions and resources it uses.',
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["IAM.1", "CKV_AWS_1", "CKV_AWS_62"],
  types: Object.keys(IAM_POLICIES),
  kind: (type) => IAM_POLICIES[type] ?? "IAM policy",
  preview:
    "a policy document built from ARNs of resources created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Replace the wildcard statement with the specific actions the role calls, on the ARNs it calls them on.",
  check: ({ type, props, report }) => {
    const documents: Array<{ where: string; policy: unknown }> =
      type === "aws:iam/role:Role"
        ? ((props as Unwrap<aws.iam.RoleArgs>).inlinePolicies ?? []).map((p, i) => ({
            where: `inlinePolicies[${i}].policy`,
            policy: p.policy,
          }))
        : [{ where: "policy", policy: props.policy }];
    for (const { where, policy } of documents) {
      for (const i of adminStatements(policy)) {
        report(
          `${where} Statement[${i}]`,
          'Allow of "*" on "*"',
          "the specific actions on the specific resource ARNs the principal uses",
          'list the actions (e.g. "logs:PutLogEvents") and the resource ARNs instead of "*"',
        );
      }
    }
  },
});

export const kmsIamPolicies: OpsbookPolicy[] = [kmsKeyRotation, iamNoAdminWildcards];
