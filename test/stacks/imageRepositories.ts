/**
 * The stacks' image repositories (R-security-image-scan, R-security-image-lifecycle): declared in
 * every stack, the images of the services and of the backup job come from them, and each execution
 * role pulls from its own repository only. Asserted by each stack's test file.
 */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { ICronJob } from "kubernetes-models/batch/v1/CronJob";
import { containersOf, ofType, one, type RecordedResource } from "../helpers/mocks";
import { type Plan, stackFileConfig } from "../helpers/stack";

const REPOSITORY = "aws:ecr/repository:Repository";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const repoArn = (name: string) => `arn:aws:ecr:eu-west-1:123456789012:repository/${name}`;

type Statement = { Sid: string; Action: unknown; Resource: unknown; Condition?: unknown };
const statements = (plan: Plan, role: string): Statement[] =>
  (
    JSON.parse(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", role).inputs.policy as string) as {
      Statement: Statement[];
    }
  ).Statement;

/** Every stack: the repositories, their lifecycle and the output. */
export function imageRepositories(plan: () => Plan, stack: string, protect: boolean): void {
  const tags = Object.fromEntries(stackFileConfig(stack).services.map((s) => [s.name, s.tag]));

  test("one per service and one for the backup job, each immutable, scanned on push, under the images key", () => {
    const repos = ofType(plan().resources, REPOSITORY);
    expect(repos.map((r) => [r.inputs.name, r.protect])).toEqual([
      [`opsbook/${stack}/api`, protect],
      [`opsbook/${stack}/backup-job`, protect],
      [`opsbook/${stack}/web`, protect],
    ]);
    for (const r of repos)
      expect(r.inputs).toMatchObject({
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [
          { encryptionType: "KMS", kmsKey: "arn:aws:kms:eu-west-1:123456789012:key/images-key" },
        ],
        forceDelete: false,
      });
    expect(one(plan().resources, "aws:kms/key:Key", "images-key").inputs.enableKeyRotation).toBe(true);
  });

  test("each lifecycle keeps the tag the stack deploys from it", () => {
    const deployed = (name: string) =>
      (
        JSON.parse(one(plan().resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", name).inputs.policy as string) as {
          rules: Array<{ selection: { tagPatternList?: string[] } }>;
        }
      ).rules[0]!.selection.tagPatternList;
    expect(deployed("api")).toEqual([tags.api]);
    expect(deployed("web")).toEqual([tags.web]);
    expect(deployed("backup-job")).toEqual(["1.0.0"]);
  });

  test("the stack outputs the repository URLs to push to", () => {
    expect(plan().outputs.repositoryUrls).toEqual({
      api: `${REGISTRY}/opsbook/${stack}/api`,
      web: `${REGISTRY}/opsbook/${stack}/web`,
      "backup-job": `${REGISTRY}/opsbook/${stack}/backup-job`,
    });
  });
}

/** An ECS stack: every task definition runs from its repository, pulled by its execution role alone. */
export function ecsImages(plan: () => Plan, stack: string): void {
  const image = (task: string) => containersOf(one(plan().resources, TASK, task))[0]!.image;
  const tags = Object.fromEntries(stackFileConfig(stack).services.map((s) => [s.name, s.tag]));
  /** Each task definition, the repository its image comes from and the execution role that pulls it. */
  const tasks: Array<[string, string, string]> = [
    ["api", "api", "api-execution"],
    ["api-migrate", "api", "api-migrate-execution"],
    ["web", "web", "web-execution"],
    [`${stack}-backup`, "backup-job", `${stack}-execution`],
    // The drill shares the backup's execution role (the backup role's connection).
    [`${stack}-restore-drill`, "backup-job", `${stack}-execution`],
    [`${stack}-db-roles`, "backup-job", `${stack}-db-roles-execution`],
    [`${stack}-maintenance-analyze`, "backup-job", `${stack}-db-maintenance-execution`],
    [`${stack}-maintenance-vacuum`, "backup-job", `${stack}-db-maintenance-execution`],
  ];

  test.each(tasks)("%s: image from %s, pulled by its execution role from that repository only", (task, repo, role) => {
    const tag = repo === "backup-job" ? "1.0.0" : tags[repo];
    expect(image(task)).toBe(`${REGISTRY}/opsbook/${stack}/${repo}:${tag}`);
    const found = statements(plan(), role);
    expect(found.find((s) => s.Sid === "PullImage")).toEqual({
      Sid: "PullImage",
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
      Resource: repoArn(`opsbook/${stack}/${repo}`),
    });
    expect(found.find((s) => s.Sid === "EcrLogin")).toMatchObject({
      Action: "ecr:GetAuthorizationToken",
      Resource: "*",
    });
    expect(found.find((s) => s.Sid === "DecryptImage")).toEqual({
      Sid: "DecryptImage",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: "arn:aws:kms:eu-west-1:123456789012:key/images-key",
      Condition: { StringEquals: { "kms:ViaService": "ecr.eu-west-1.amazonaws.com" } },
    });
  });

  test("no execution role may pull from another repository", () => {
    const pulls = ofType(plan().resources, "aws:iam/rolePolicy:RolePolicy").flatMap((r: RecordedResource) =>
      statements(plan(), r.name)
        .filter((s) => s.Sid === "PullImage")
        .map((s) => [r.name, s.Resource]),
    );
    // One pull statement per execution role: the two maintenance tasks share theirs.
    const roles = new Map(tasks.map(([, repo, role]) => [role, repo]));
    expect(pulls.sort()).toEqual([...roles].map(([role, repo]) => [role, repoArn(`opsbook/${stack}/${repo}`)]).sort());
  });
}

/** The Kubernetes stack: the cluster pulls the services' and the jobs' images from the repositories. */
export function kubernetesImages(plan: () => Plan): void {
  test("the Deployments, the backup and maintenance CronJobs and the role bootstrap Job name the repositories' images", () => {
    const deployment = (name: string) =>
      (one(plan().resources, "kubernetes:apps/v1:Deployment", name).inputs as unknown as IDeployment).spec!.template
        .spec!.containers[0]!.image;
    expect(deployment("api")).toBe(`${REGISTRY}/opsbook/staging-k8s/api:1.0.0`);
    expect(deployment("web")).toBe(`${REGISTRY}/opsbook/staging-k8s/web:1.0.0`);
    const cronJobs = ofType(plan().resources, "kubernetes:batch/v1:CronJob").map(
      (c) => (c.inputs as unknown as ICronJob).spec!.jobTemplate.spec!.template.spec!.containers[0]!.image,
    );
    // The backup, the drill, the weekly ANALYZE and the monthly VACUUM.
    expect(cronJobs).toEqual(Array(4).fill(`${REGISTRY}/opsbook/staging-k8s/backup-job:1.0.0`));
    const job = ofType(plan().resources, "kubernetes:batch/v1:Job").map(
      (j) =>
        (j.inputs as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec
          .containers[0]!.image,
    );
    expect(job).toEqual([`${REGISTRY}/opsbook/staging-k8s/backup-job:1.0.0`]);
  });
}
