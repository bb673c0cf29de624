/**
 * The CI bootstrap's config (`Pulumi.<stack>.yaml` in this directory), validated like the opsbook
 * program's: unknown keys are errors, every problem names the key, the value, what is allowed and
 * the `pulumi config` fix, and nothing is declared while a problem remains (R-ci-bootstrap).
 */
import { z } from "zod";
import { awsConfigProblems } from "../lib/awsConfig";
import { closest, ConfigError, ProblemWriter, quote, type ConfigProblem } from "../lib/configErrors";
import { bool, int, listOf, matching, ON_VALID, report } from "../lib/schema";

export const PROJECT = "opsbook-bootstrap";

/** Namespaces a stack file may use besides the project's own. */
const OTHER_NAMESPACES = ["aws", "pulumi"];

/** IAM role names: at most 64 characters (the IAM quota). */
export const ROLE_NAME_MAX = 64;

/** A GitHub environment name as it appears in the OIDC `sub` claim; `:` would split the claim. */
const githubEnvironment = matching(
  /^[A-Za-z0-9._-]{1,255}$/,
  "a GitHub environment name: letters, digits, '.', '_', '-', e.g. production",
);

const stackSettings = z.strictObject({
  name: matching(/^[a-z][a-z0-9-]{0,39}$/, "a stack name of the opsbook program, e.g. staging").describe(
    "the opsbook stack (`Pulumi.<name>.yaml`) this role deploys and this key protects",
  ),
  environments: listOf(githubEnvironment, "GitHub environment names", 10)
    .min(1, { error: "at least one GitHub environment" })
    .describe(
      "the GitHub environments whose jobs may assume the stack's deploy role (e.g. `production`, and a rollback environment if the workflows use one)",
    ),
  preview: bool()
    .default(true)
    .describe("the preview role may read this stack's state and decrypt its secrets for `pulumi preview`"),
  secretsUsers: listOf(
    matching(/^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\-/]{1,64}$/, "an IAM role ARN"),
    "IAM role ARNs",
  )
    .default([])
    .describe(
      "IAM roles of people who may also encrypt and decrypt this stack's secrets (`pulumi stack init`, `pulumi config set --secret`)",
    ),
});

const schema = z
  .strictObject({
    repository: matching(
      /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
      "a GitHub repository as owner/name, e.g. example-org/opsbook",
    ).describe("the GitHub repository whose workflows may assume the roles"),
    project: matching(/^[A-Za-z0-9_.-]{1,40}$/, "a Pulumi project name, e.g. opsbook")
      .default("opsbook")
      .describe("the Pulumi project whose stacks the state bucket holds (`name` in the root `Pulumi.yaml`)"),
    preview: z
      .strictObject({
        environment: githubEnvironment
          .default("preview")
          .describe("the GitHub environment (with required reviewers) of the live preview job"),
        pullRequests: bool()
          .default(false)
          .describe(
            "also trust jobs of same-repository pull requests without an environment (`sub` = `repo:<owner>/<repo>:pull_request`)",
          ),
      })
      .prefault({})
      .describe("the read-only preview role"),
    stacks: z
      .array(stackSettings, { error: "a list of stacks, each { name, environments }" })
      .min(1, { error: "at least one stack" })
      .default([
        { name: "staging", environments: ["staging"], preview: true, secretsUsers: [] },
        { name: "production", environments: ["production"], preview: true, secretsUsers: [] },
      ])
      .describe("one deploy role and one secrets key per opsbook stack"),
    oidcProviderArn: matching(
      /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
      "the ARN of an IAM OIDC provider for token.actions.githubusercontent.com",
    )
      .optional()
      .describe("an existing GitHub OIDC provider to trust instead of declaring one (an account has one per URL)"),
    protect: bool().default(true).describe("Pulumi `protect` on the state bucket and the keys"),
    stateVersionDays: int(1, 3650, " days")
      .default(365)
      .describe("days an overwritten or deleted state file version is kept"),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    const environments = new Map<string, string>();
    c.stacks.forEach((s, i) => {
      if (names.has(s.name)) report(ctx, ["stacks", i, "name"], s.name, "a name no other stack entry has");
      names.add(s.name);
      const role = deployRoleName(c.project, s.name);
      if (role.length > ROLE_NAME_MAX)
        report(
          ctx,
          ["stacks", i, "name"],
          s.name,
          `a name that keeps the role name "${role}" within ${ROLE_NAME_MAX} characters`,
        );
      s.environments.forEach((e, j) => {
        const owner = e === c.preview.environment ? "the preview role" : environments.get(e);
        // One environment, one role: a job of the production environment must never get staging's role or the reverse.
        if (owner)
          report(ctx, ["stacks", i, "environments", j], e, `an environment no other role trusts (${owner} does)`);
        environments.set(e, `stacks "${s.name}"`);
      });
    });
  }, ON_VALID);

/** The schema of the `opsbook-bootstrap:` namespace. */
export const bootstrapSchema = schema;

export type BootstrapConfig = z.output<typeof schema> & { stack: string; region: string };
export type StackSettings = BootstrapConfig["stacks"][number];

export function previewRoleName(project: string): string {
  return `${project}-ci-preview`;
}

export function deployRoleName(project: string, stack: string): string {
  return `${project}-ci-deploy-${stack}`;
}

/**
 * Validates the raw config (full keys to the strings Pulumi hands a program). `secretKeys` are the
 * keys whose values are secrets: a problem never shows them. Throws `ConfigError`.
 */
export function parseBootstrapConfig(
  stack: string,
  raw: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
): BootstrapConfig {
  const problems: ConfigProblem[] = [...awsConfigProblems(stack, raw, secretKeys)];
  const own: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw)) {
    const ns = fullKey.includes(":") ? fullKey.slice(0, fullKey.indexOf(":")) : PROJECT;
    const key = fullKey.slice(fullKey.indexOf(":") + 1);
    if (ns === PROJECT) own[key] = parseValue(text);
    else if (!OTHER_NAMESPACES.includes(ns)) {
      const suggestion = closest(ns, [PROJECT, ...OTHER_NAMESPACES]);
      problems.push({
        key: fullKey,
        value: parseValue(text),
        allowed: `keys in the namespaces ${[PROJECT, ...OTHER_NAMESPACES].join(", ")}${suggestion ? `; did you mean "${suggestion}:${key}"?` : ""}`,
        fix: `pulumi config rm ${quote(fullKey)} --stack ${stack}`,
      });
    }
  }
  const result = schema.safeParse(own);
  if (!result.success) {
    const writer = new ProblemWriter(stack, PROJECT, schema);
    problems.push(...result.error.issues.flatMap((issue) => writer.fromIssue(own, issue)));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(stack, problems, secretKeys);
  return { ...result.data, stack, region: raw["aws:region"]! };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
