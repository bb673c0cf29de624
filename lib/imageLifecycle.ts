/**
 * The lifecycle policy of an image repository (ECR's documented JSON rule format), pure so that
 * tests and the policy pack read the same rules the program declares (R-security-image-lifecycle).
 *
 * ECR evaluates rules by `rulePriority`, lowest first, and an image that matches the tag selection
 * of a rule cannot be expired by a rule of lower priority. So a first rule per deployed tag, which
 * selects exactly that tag and keeps one image of it, protects the running image however many
 * newer images were pushed; the rules after it expire untagged images after some days and keep
 * the newest `keepImages` tagged ones (the previous releases a rollback returns to).
 */

/** One lifecycle rule as ECR reads it. */
export interface LifecycleRule {
  rulePriority: number;
  description: string;
  selection: {
    tagStatus: "tagged" | "untagged" | "any";
    tagPatternList?: string[];
    countType: "imageCountMoreThan" | "sinceImagePushed";
    countUnit?: "days";
    countNumber: number;
  };
  action: { type: "expire" };
}

/** ECR's quota of rules per lifecycle policy. */
export const MAX_LIFECYCLE_RULES = 50;

export interface LifecycleSettings {
  /** Tagged images kept besides the deployed ones, newest first by push time. */
  keepImages: number;
  /** Days after its push an untagged image (a tag moved away, a build's leftovers) expires. */
  untaggedExpireDays: number;
  /** The tags the stack runs now: never expired. */
  deployedTags: readonly string[];
}

/** The rules, in priority order: deployed tags, untagged images, then the count of tagged ones. */
export function lifecycleRules(s: LifecycleSettings): LifecycleRule[] {
  const deployed = [...new Set(s.deployedTags)].sort();
  if (deployed.length + 2 > MAX_LIFECYCLE_RULES) {
    throw new Error(
      `${deployed.length} deployed tags need ${deployed.length + 2} lifecycle rules, and ECR allows ${MAX_LIFECYCLE_RULES} per repository: give the services that share this repository fewer distinct tags, or repositories of their own`,
    );
  }
  const rules: LifecycleRule[] = deployed.map((tag, i) => ({
    rulePriority: i + 1,
    description: `keep the deployed image ${tag}`,
    // A tag holds one image in an immutable repository: a count of 1 never expires it.
    selection: { tagStatus: "tagged", tagPatternList: [tag], countType: "imageCountMoreThan", countNumber: 1 },
    action: { type: "expire" },
  }));
  rules.push(
    {
      rulePriority: deployed.length + 1,
      description: `expire untagged images ${s.untaggedExpireDays} days after their push`,
      selection: {
        tagStatus: "untagged",
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: s.untaggedExpireDays,
      },
      action: { type: "expire" },
    },
    {
      rulePriority: deployed.length + 2,
      description: `keep the newest ${s.keepImages} tagged images`,
      selection: {
        tagStatus: "tagged",
        tagPatternList: ["*"],
        countType: "imageCountMoreThan",
        countNumber: s.keepImages,
      },
      action: { type: "expire" },
    },
  );
  return rules;
}

/** The policy document `aws.ecr.LifecyclePolicy` takes. */
export function lifecyclePolicy(s: LifecycleSettings): string {
  return JSON.stringify({ rules: lifecycleRules(s) });
}
