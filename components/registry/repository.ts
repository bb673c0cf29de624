import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lifecyclePolicy } from "../../lib/imageLifecycle";
import type { RegistrySettings } from "./settings";

/** The parsed `opsbook:registry` settings, and what this repository holds. */
export interface ImageRepositoryArgs extends RegistrySettings {
  /** ECR repository name, e.g. `opsbook/production/api`. */
  repositoryName: string;
  /** The tags the stack runs from this repository: the lifecycle never expires them. */
  deployedTags: string[];
  /** Customer-managed KMS key the images are encrypted with. */
  kmsKeyArn: pulumi.Input<string>;
  /** Pulumi `protect`: the released images outlive any update. */
  protect: boolean;
}

/**
 * One ECR repository: immutable tags (a released tag always names the image that was tested),
 * scanned on push (R-security-image-scan), encrypted with the stack's images key, never deleted
 * with images in it, and a lifecycle that keeps the deployed image and the newest releases
 * (R-security-image-lifecycle). Cost: image storage per GB-month and the key.
 */
export class ImageRepository extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  readonly lifecyclePolicy: aws.ecr.LifecyclePolicy;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: the image without its tag. */
  readonly url: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Input<string>;

  constructor(name: string, args: ImageRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:registry:ImageRepository", name, {}, opts);
    this.repository = new aws.ecr.Repository(
      name,
      {
        name: args.repositoryName,
        imageTagMutability: "IMMUTABLE",
        // Basic scanning of every pushed image; enhanced (Inspector) scanning is account-wide,
        // aws.ecr.RegistryScanningConfiguration, and left to the account's owner.
        imageScanningConfiguration: { scanOnPush: true },
        // Set once: ECR cannot change a repository's encryption after it is created.
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.kmsKeyArn }],
        forceDelete: false,
      },
      { parent: this, protect: args.protect },
    );
    this.lifecyclePolicy = new aws.ecr.LifecyclePolicy(
      name,
      {
        repository: this.repository.name,
        policy: lifecyclePolicy({
          keepImages: args.keepImages,
          untaggedExpireDays: args.untaggedExpireDays,
          deployedTags: args.deployedTags,
        }),
      },
      { parent: this },
    );
    this.url = this.repository.repositoryUrl;
    this.arn = this.repository.arn;
    this.kmsKeyArn = args.kmsKeyArn;
    this.registerOutputs({ url: this.url });
  }
}
