/**
 * The `aws:` namespace of a stack file, checked like the project's own keys (R-config-aws): the
 * AWS provider reads only the keys it knows, so a misspelt one (`aws:defaultTag`) would be ignored
 * without a word and, for `aws:defaultTags`, drop every tag. The keys are the provider's config
 * schema (`@pulumi/aws/config/vars`).
 */
import { closest, quote, rmFix, type ConfigProblem } from "./configErrors";
import { REGION } from "./schema";

/** Every config key of the AWS provider (`@pulumi/aws` 7, `config/vars.d.ts`). */
export const AWS_PROVIDER_KEYS = [
  "accessKey",
  "allowedAccountIds",
  "assumeRoleWithWebIdentity",
  "assumeRoles",
  "customCaBundle",
  "defaultTags",
  "ec2MetadataServiceEndpoint",
  "ec2MetadataServiceEndpointMode",
  "endpoints",
  "forbiddenAccountIds",
  "httpProxy",
  "httpsProxy",
  "ignoreTags",
  "insecure",
  "maxRetries",
  "noProxy",
  "profile",
  "region",
  "retryMode",
  "s3UsEast1RegionalEndpoint",
  "s3UsePathStyle",
  "secretKey",
  "sharedConfigFiles",
  "sharedCredentialsFiles",
  "skipCredentialsValidation",
  "skipMetadataApiCheck",
  "skipRegionValidation",
  "skipRequestingAccountId",
  "stsRegion",
  "tagPolicyCompliance",
  "token",
  "tokenBucketRateLimiterCapacity",
  "useDualstackEndpoint",
  "useFipsEndpoint",
  "userAgents",
] as const;

/** AWS tag limits: 50 tags per resource, keys up to 128 and values up to 256 characters, no `aws:` prefix. */
export const TAG_LIMITS = { count: 50, keyLength: 128, valueLength: 256 } as const;

/** Provider keys whose value is a credential: a stack file must not hold them in plain text. */
const CREDENTIAL_KEYS = new Set(["accessKey", "secretKey", "token"]);

/**
 * The problems of a stack's `aws:` keys: unknown keys (with "did you mean"), a missing or malformed
 * `aws:region`, a `aws:defaultTags` that is not `{ tags: { key: value } }` within AWS's tag limits,
 * and credentials kept in plain text. `raw` maps full keys to the strings Pulumi hands a program.
 */
export function awsConfigProblems(stack: string, raw: Record<string, string>, secretKeys: ReadonlySet<string>) {
  const problems: ConfigProblem[] = [];
  for (const fullKey of Object.keys(raw)) {
    if (!fullKey.startsWith("aws:")) continue;
    const key = fullKey.slice("aws:".length);
    if (!(AWS_PROVIDER_KEYS as readonly string[]).includes(key)) {
      const suggestion = closest(key, AWS_PROVIDER_KEYS);
      problems.push({
        key: fullKey,
        value: secretKeys.has(fullKey) ? "[secret]" : parseJson(raw[fullKey]!),
        allowed: `a key of the AWS provider${suggestion ? `; did you mean "aws:${suggestion}"?` : ""} (the provider ignores any other key)`,
        fix: suggestion
          ? `${rmFix(stack, fullKey, false)} && pulumi config set ${quote(`aws:${suggestion}`)} <value> --stack ${stack}`
          : rmFix(stack, fullKey, false),
      });
    } else if (CREDENTIAL_KEYS.has(key) && !secretKeys.has(fullKey)) {
      problems.push({
        key: fullKey,
        value: "[masked]",
        allowed: "no AWS credentials in the stack file; use a role (OIDC in CI) or, if you must, a secret",
        fix: rmFix(stack, fullKey, false),
      });
    }
  }

  const region = raw["aws:region"];
  if (region === undefined || !REGION.test(region)) {
    problems.push({
      key: "aws:region",
      value: region,
      allowed: "an AWS region, e.g. eu-west-1",
      fix: `pulumi config set aws:region eu-west-1 --stack ${stack}`,
    });
  }

  const tagsText = raw["aws:defaultTags"];
  if (tagsText !== undefined) problems.push(...defaultTagsProblems(stack, parseJson(tagsText)));
  return problems;
}

function defaultTagsProblems(stack: string, value: unknown): ConfigProblem[] {
  const fix = (path: string) => `pulumi config set --path ${quote(`aws:defaultTags.${path}`)} <value> --stack ${stack}`;
  if (!isMap(value) || Object.keys(value).some((k) => k !== "tags") || !isMap(value.tags)) {
    return [
      {
        key: "aws:defaultTags",
        value,
        allowed: "a map { tags: { <key>: <value> } } (the provider reads tags only under `tags`)",
        fix: fix("tags.project"),
      },
    ];
  }
  const problems: ConfigProblem[] = [];
  const entries = Object.entries(value.tags);
  if (entries.length > TAG_LIMITS.count) {
    problems.push({
      key: "aws:defaultTags.tags",
      value: `${entries.length} tags`,
      allowed: `at most ${TAG_LIMITS.count} tags (the AWS limit per resource)`,
      fix: `pulumi config rm --path 'aws:defaultTags.tags.<key>' --stack ${stack}`,
    });
  }
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > TAG_LIMITS.keyLength || k.toLowerCase().startsWith("aws:")) {
      problems.push({
        key: `aws:defaultTags.tags.${k}`,
        value: k,
        allowed: `a tag key of 1 to ${TAG_LIMITS.keyLength} characters, not starting with "aws:" (AWS tag limits)`,
        fix: `pulumi config rm --path ${quote(`aws:defaultTags.tags.${k}`)} --stack ${stack}`,
      });
    } else if (typeof v !== "string" || v.length > TAG_LIMITS.valueLength) {
      problems.push({
        key: `aws:defaultTags.tags.${k}`,
        value: v,
        allowed: `a string of at most ${TAG_LIMITS.valueLength} characters (AWS tag limits)`,
        fix: fix(`tags.${k}`),
      });
    }
  }
  return problems;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
