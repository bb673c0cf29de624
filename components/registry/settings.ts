/** `opsbook:registry`: the ECR repositories of the services' and the backup job's images. */
import { z } from "zod";
import { int, type Report } from "../../lib/schema";

export const registrySettings = z
  .strictObject({
    keepImages: int(1, 1000)
      .default(30)
      .describe(
        "tagged images each repository keeps, newest first, besides the deployed one (the releases a rollback may return to) (R-security-image-lifecycle)",
      ),
    untaggedExpireDays: int(1, 365, " days")
      .default(7)
      .describe("days after its push an untagged image expires (R-security-image-lifecycle)"),
  })
  .prefault({})
  .describe(
    "the stack's ECR repositories, one per service and one for the backup job: immutable tags, scan on push, KMS encryption, lifecycle (R-security-image-scan)",
  );

export type RegistrySettings = z.output<typeof registrySettings>;

/** ECR's repository name grammar: path components of lower-case words joined by one of `.`, `_`, `-`. */
const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** The repository of one image of the stack: `opsbook/<environment>/<image>`. */
export function repositoryName(environment: string, image: string): string {
  return `opsbook/${environment}/${image}`;
}

/** The backup job's repository (its image is also the restore drill's and the role bootstrap's). */
export const BACKUP_JOB_IMAGE = "backup-job";

/**
 * Service names ECR cannot take as a repository name (a trailing or doubled '-'), or that the backup
 * job's repository has, refused before anything is created. Paths are relative to `opsbook:services`.
 */
export function registryStackRules(environment: string, services: { name: string }[], add: Report): void {
  services.forEach((s, i) => {
    if (s.name === BACKUP_JOB_IMAGE) {
      add([i, "name"], s.name, `a name other than "${BACKUP_JOB_IMAGE}": the backup job's image repository has it`);
    } else if (!ECR_REPOSITORY_NAME.test(repositoryName(environment, s.name))) {
      add(
        [i, "name"],
        s.name,
        "a name without a trailing or doubled '-': it names the service's ECR repository, and ECR refuses those",
        s.name.replace(/-+/g, "-").replace(/-$/, ""),
      );
    }
  });
}
