/**
 * ECR repositories: every pushed image scanned, tags immutable, images encrypted with a customer
 * key, and a lifecycle policy that expires old images (R-security-image-scan, R-security-image-lifecycle).
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { isAwsManagedKey } from "./keysAndSecrets";
import { type OpsbookPolicy, type Outputs, idSet, message, ofTypes, resourceRule, show, stackRule } from "./common";

export const REPOSITORY = "aws:ecr/repository:Repository";
export const LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy";

type Repository = Unwrap<aws.ecr.RepositoryArgs>;

function repositoryRule(meta: Omit<Parameters<typeof resourceRule<Repository>>[0], "types" | "kind">): OpsbookPolicy {
  return resourceRule<Repository>({ ...meta, types: [REPOSITORY], kind: "ECR repository" });
}

export const ecrScanOnPush = repositoryRule({
  name: "ecr-scan-on-push",
  description: "Every ECR repository scans each image for vulnerabilities when it is pushed.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_163", "ECR.1", "runbook 002"], // R-security-image-scan
  remediationSteps: "Set imageScanningConfiguration: { scanOnPush: true } on the repository.",
  check: ({ props, report }) => {
    if (props.imageScanningConfiguration?.scanOnPush !== true)
      report(
        "imageScanningConfiguration.scanOnPush",
        show(props.imageScanningConfiguration?.scanOnPush),
        "true",
        "set imageScanningConfiguration: { scanOnPush: true }",
      );
  },
});

export const ecrImmutableTags = repositoryRule({
  name: "ecr-immutable-tags",
  description:
    "Every ECR repository has immutable tags, so a released tag always names the image that was tested and deployed.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_51", "ECR.2", "runbook 004"], // R-deploy-version
  remediationSteps: 'Set imageTagMutability: "IMMUTABLE" (push a new tag for every build).',
  check: ({ props, report }) => {
    if (props.imageTagMutability !== "IMMUTABLE")
      report(
        "imageTagMutability",
        props.imageTagMutability === undefined ? 'not set (AWS default "MUTABLE")' : show(props.imageTagMutability),
        '"IMMUTABLE"',
        'set imageTagMutability: "IMMUTABLE"',
      );
  },
});

export const ecrCustomerKey = repositoryRule({
  name: "ecr-customer-key",
  description:
    "Every ECR repository encrypts its images with a customer-managed KMS key, not AES256 or the AWS-managed key (alias/aws/ecr).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_136", "runbook 003"], // R-secret-storage
  preview:
    "a key created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    'Set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <customer key ARN> }] when creating the repository (ECR cannot change it later: the repository is replaced).',
  check: ({ props, report }) => {
    const config = props.encryptionConfigurations?.[0];
    if (config?.encryptionType !== "KMS" || !config.kmsKey || isAwsManagedKey(config.kmsKey))
      report(
        "encryptionConfigurations",
        config === undefined
          ? "not set (AES256 with S3-managed keys)"
          : show({ encryptionType: config.encryptionType, kmsKey: config.kmsKey }),
        '[{ encryptionType: "KMS", kmsKey: <customer-managed key> }]',
        'set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <the stack\'s images key>.arn }]',
      );
  },
});

export const ecrLifecyclePolicy = stackRule({
  name: "ecr-lifecycle-policy",
  description:
    "Every ECR repository has a lifecycle policy, so untagged and old images expire instead of piling up (and being scanned and paid for).",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["ECR.3", "runbook 004"], // R-security-image-lifecycle
  remediationSteps:
    "Declare an aws.ecr.LifecyclePolicy with repository: <repository>.name that keeps the deployed tag and the newest releases and expires untagged images.",
  check: (resources, _config, report) => {
    const covered = new Set(
      ofTypes(resources, [LIFECYCLE_POLICY]).map((p) => (p.props as Unwrap<aws.ecr.LifecyclePolicyArgs>).repository),
    );
    for (const repo of ofTypes(resources, [REPOSITORY])) {
      const props = repo.props as Outputs<aws.ecr.RepositoryState>;
      if (![...idSet(props.name, props.id)].some((id) => covered.has(id)))
        report(
          repo,
          message(
            `ECR repository "${repo.name}"`,
            "lifecycle policy",
            `missing (no ${LIFECYCLE_POLICY} names repository ${show(props.name)})`,
            "a lifecycle policy on the repository",
            "declare an aws.ecr.LifecyclePolicy with repository: <repository>.name",
          ),
        );
    }
  },
});

export const ecrPolicies: OpsbookPolicy[] = [ecrScanOnPush, ecrImmutableTags, ecrCustomerKey, ecrLifecyclePolicy];
