import * as ecr from "../../rules/ecr";
import { changed, resource, stackViolations, violations } from "../helpers";

const repository = {
  name: "opsbook/production/api",
  imageTagMutability: "IMMUTABLE",
  imageScanningConfiguration: { scanOnPush: true },
  encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:eu-west-1:123456789012:key/images" }],
  forceDelete: false,
};

const repositoryRules = [ecr.ecrScanOnPush, ecr.ecrImmutableTags, ecr.ecrCustomerKey];

test.each(repositoryRules.map((p) => [p.name, p] as const))(
  "%s passes the compliant repository",
  async (_n, policy) => {
    expect(await violations(policy, ecr.REPOSITORY, repository)).toEqual([]);
  },
);

describe("ecr-scan-on-push", () => {
  test("reports a repository without scan on push", async () => {
    expect(
      await violations(
        ecr.ecrScanOnPush,
        ecr.REPOSITORY,
        changed(repository, { imageScanningConfiguration: undefined }),
        {
          name: "api",
        },
      ),
    ).toEqual([
      'ECR repository "api": imageScanningConfiguration.scanOnPush is not set; required: true. Fix: set imageScanningConfiguration: { scanOnPush: true }.',
    ]);
    expect(
      await violations(
        ecr.ecrScanOnPush,
        ecr.REPOSITORY,
        changed(repository, { imageScanningConfiguration: { scanOnPush: false } }),
      ),
    ).toEqual([expect.stringContaining("imageScanningConfiguration.scanOnPush is false; required: true")]);
  });
});

describe("ecr-immutable-tags", () => {
  test("reports mutable tags, and an unset mutability as AWS's MUTABLE default", async () => {
    expect(
      await violations(ecr.ecrImmutableTags, ecr.REPOSITORY, changed(repository, { imageTagMutability: "MUTABLE" }), {
        name: "api",
      }),
    ).toEqual([
      'ECR repository "api": imageTagMutability is "MUTABLE"; required: "IMMUTABLE". Fix: set imageTagMutability: "IMMUTABLE".',
    ]);
    expect(
      await violations(ecr.ecrImmutableTags, ecr.REPOSITORY, changed(repository, { imageTagMutability: undefined })),
    ).toEqual([expect.stringContaining('imageTagMutability is not set (AWS default "MUTABLE")')]);
  });
});

describe("ecr-customer-key", () => {
  test("reports AES256, a missing configuration and the AWS-managed key", async () => {
    const key = (encryptionConfigurations: unknown) =>
      violations(ecr.ecrCustomerKey, ecr.REPOSITORY, changed(repository, { encryptionConfigurations }), {
        name: "api",
      });
    expect(await key([{ encryptionType: "AES256" }])).toEqual([
      'ECR repository "api": encryptionConfigurations is {"encryptionType":"AES256"}; required: [{ encryptionType: "KMS", kmsKey: <customer-managed key> }]. Fix: set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <the stack\'s images key>.arn }].',
    ]);
    expect(await key(undefined)).toEqual([
      expect.stringContaining("encryptionConfigurations is not set (AES256 with S3-managed keys)"),
    ]);
    expect(await key([{ encryptionType: "KMS" }])).toEqual([
      expect.stringContaining('encryptionConfigurations is {"encryptionType":"KMS"}'),
    ]);
    expect(await key([{ encryptionType: "KMS", kmsKey: "alias/aws/ecr" }])).toEqual([
      expect.stringContaining('"kmsKey":"alias/aws/ecr"'),
    ]);
  });
});

describe("ecr-lifecycle-policy", () => {
  const repo = resource(ecr.REPOSITORY, "api", repository);
  const lifecycle = resource(ecr.LIFECYCLE_POLICY, "api", { repository: repository.name, policy: '{"rules":[]}' });

  test("passes a repository with a lifecycle policy", async () => {
    expect(await stackViolations(ecr.ecrLifecyclePolicy, [repo, lifecycle])).toEqual([]);
  });

  test("reports a repository no lifecycle policy names", async () => {
    const other = resource(ecr.REPOSITORY, "web", changed(repository, { name: "opsbook/production/web" }));
    expect(await stackViolations(ecr.ecrLifecyclePolicy, [repo, lifecycle, other])).toEqual([
      'web: ECR repository "web": lifecycle policy is missing (no aws:ecr/lifecyclePolicy:LifecyclePolicy names repository "opsbook/production/web"); required: a lifecycle policy on the repository. Fix: declare an aws.ecr.LifecyclePolicy with repository: <repository>.name.',
    ]);
  });
});
