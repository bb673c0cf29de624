import { lifecyclePolicy, lifecycleRules } from "../../lib/imageLifecycle";

describe("the image repositories' lifecycle (R-security-image-lifecycle)", () => {
  const rules = lifecycleRules({ keepImages: 30, untaggedExpireDays: 7, deployedTags: ["1.4.2"] });

  test("keeps the deployed tag first, then expires untagged images by age and tagged ones beyond the newest 30", () => {
    expect(rules).toEqual([
      {
        rulePriority: 1,
        description: "keep the deployed image 1.4.2",
        selection: { tagStatus: "tagged", tagPatternList: ["1.4.2"], countType: "imageCountMoreThan", countNumber: 1 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: "expire untagged images 7 days after their push",
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
        action: { type: "expire" },
      },
      {
        rulePriority: 3,
        description: "keep the newest 30 tagged images",
        selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 30 },
        action: { type: "expire" },
      },
    ]);
  });

  test("a deployed tag's rule comes before every rule that could expire it", () => {
    // ECR: an image matched by a rule's tag selection is not expired by a rule of lower priority.
    const deployed = rules.filter((r) => r.selection.tagPatternList?.includes("1.4.2"));
    const expiring = rules.filter((r) => r.selection.tagPatternList?.includes("*"));
    expect(Math.max(...deployed.map((r) => r.rulePriority))).toBeLessThan(
      Math.min(...expiring.map((r) => r.rulePriority)),
    );
  });

  test("one rule per distinct deployed tag, priorities unique and in order", () => {
    const many = lifecycleRules({ keepImages: 5, untaggedExpireDays: 1, deployedTags: ["2", "1", "2"] });
    expect(many.map((r) => [r.rulePriority, r.selection.tagPatternList])).toEqual([
      [1, ["1"]],
      [2, ["2"]],
      [3, undefined],
      [4, ["*"]],
    ]);
  });

  test("ECR's 50 rules per policy: 48 deployed tags fit, 49 are refused with the count and the fix", () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `1.0.${i}`);
    expect(lifecycleRules({ keepImages: 5, untaggedExpireDays: 1, deployedTags: tags(48) })).toHaveLength(50);
    expect(() => lifecycleRules({ keepImages: 5, untaggedExpireDays: 1, deployedTags: tags(49) })).toThrow(
      "49 deployed tags need 51 lifecycle rules, and ECR allows 50 per repository",
    );
  });

  test("the policy document is ECR's JSON: { rules: [...] }", () => {
    expect(JSON.parse(lifecyclePolicy({ keepImages: 30, untaggedExpireDays: 7, deployedTags: ["1.4.2"] }))).toEqual({
      rules,
    });
  });
});
