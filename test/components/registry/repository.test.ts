import { ImageRepository } from "../../../components/registry/repository";
import { BACKUP_JOB_IMAGE, registryStackRules, registrySettings } from "../../../components/registry/settings";
import { one, recordResources, resolve, settle, type RecordedResource } from "../../helpers/mocks";
import { settingsProblems } from "../../helpers/settings";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/images";

let resources: RecordedResource[];
let repo: ImageRepository;
beforeAll(async () => {
  resources = await recordResources();
  repo = new ImageRepository("api", {
    ...registrySettings.parse({}),
    repositoryName: "opsbook/production/api",
    deployedTags: ["1.4.2"],
    kmsKeyArn: KEY,
    protect: true,
  });
  await settle();
});

describe("ImageRepository (R-security-image-scan)", () => {
  test("immutable tags, scan on push, the customer key, never deleted with images, protected", () => {
    const r = one(resources, "aws:ecr/repository:Repository", "api");
    expect(r.inputs).toEqual({
      name: "opsbook/production/api",
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: KEY }],
      forceDelete: false,
    });
    expect(r.protect).toBe(true);
  });

  test("its lifecycle keeps the deployed tag and the newest 30, untagged for 7 days (R-security-image-lifecycle)", () => {
    const policy = one(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "api");
    expect(policy.inputs.repository).toBe("opsbook/production/api");
    const rules = (JSON.parse(policy.inputs.policy as string) as { rules: Array<{ selection: unknown }> }).rules;
    expect(rules.map((r) => r.selection)).toEqual([
      { tagStatus: "tagged", tagPatternList: ["1.4.2"], countType: "imageCountMoreThan", countNumber: 1 },
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 30 },
    ]);
  });

  test("publishes the repository URL and ARN", async () => {
    expect(await resolve(repo.url)).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/production/api");
    expect(await resolve(repo.arn)).toBe("arn:aws:ecr:eu-west-1:123456789012:repository/opsbook/production/api");
  });
});

describe("opsbook:registry settings", () => {
  test("defaults: 30 tagged images, untagged ones for 7 days", () => {
    expect(registrySettings.parse({})).toEqual({ keepImages: 30, untaggedExpireDays: 7 });
  });

  test("refuses counts ECR does not take or that keep nothing, and unknown keys", () => {
    expect(settingsProblems(registrySettings, { keepImages: 0, untaggedExpireDays: 400, keep: 3 })).toEqual([
      "keepImages: a whole number from 1 to 1000",
      "untaggedExpireDays: a whole number from 1 to 365 days",
      expect.stringMatching(/^: .*keep/),
    ]);
  });

  test("refuses service names ECR cannot take as a repository name, and the backup job's", () => {
    const found: unknown[][] = [];
    registryStackRules(
      "staging",
      [{ name: "api-" }, { name: "a--b" }, { name: "web" }, { name: BACKUP_JOB_IMAGE }],
      (...p) => found.push(p),
    );
    expect(found.map(([path, value, , fix]) => [path, value, fix])).toEqual([
      [[0, "name"], "api-", "api"],
      [[1, "name"], "a--b", "a-b"],
      [[3, "name"], "backup-job", undefined],
    ]);
  });
});
