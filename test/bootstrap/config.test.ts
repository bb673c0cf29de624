import { parseBootstrapConfig } from "../../bootstrap/config";
import { githubTrustPolicy, previewPolicy } from "../../bootstrap/policies";
import { ConfigError } from "../../lib/configErrors";

function raw(overrides: Record<string, unknown> = {}): Record<string, string> {
  const values: Record<string, unknown> = {
    "aws:region": "eu-west-1",
    "opsbook-bootstrap:repository": "example-org/opsbook",
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

function problemsOf(input: Record<string, string>, secretKeys: Set<string> = new Set()) {
  try {
    parseBootstrapConfig("ci", input, secretKeys);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseBootstrapConfig", () => {
  test("defaults: a preview environment, staging and production each with their own environment", () => {
    const c = parseBootstrapConfig("ci", raw());
    expect(c).toMatchObject({
      repository: "example-org/opsbook",
      project: "opsbook",
      preview: { environment: "preview", pullRequests: false },
      stacks: [
        { name: "staging", environments: ["staging"], preview: true, secretsUsers: [] },
        { name: "production", environments: ["production"], preview: true, secretsUsers: [] },
      ],
      protect: true,
      region: "eu-west-1",
    });
  });

  test("a production rollback environment is one more environment of production's role", () => {
    const c = parseBootstrapConfig(
      "ci",
      raw({
        "opsbook-bootstrap:stacks": [
          { name: "staging", environments: ["staging"] },
          { name: "production", environments: ["production", "production-rollback"] },
        ],
      }),
    );
    expect(c.stacks[1]!.environments).toEqual(["production", "production-rollback"]);
  });

  test.each<[string, Record<string, unknown>, { key: string; value: unknown; allowed: string | RegExp }]>([
    [
      "an unknown key",
      { "opsbook-bootstrap:repositry": "example-org/opsbook" },
      {
        key: "opsbook-bootstrap:repositry",
        value: "example-org/opsbook",
        allowed: /no such key; did you mean "repository"\?/,
      },
    ],
    [
      "a repository that is not owner/name",
      { "opsbook-bootstrap:repository": "opsbook" },
      { key: "opsbook-bootstrap:repository", value: "opsbook", allowed: /owner\/name/ },
    ],
    [
      "one environment for two roles",
      {
        "opsbook-bootstrap:stacks": [
          { name: "staging", environments: ["deploy"] },
          { name: "production", environments: ["deploy"] },
        ],
      },
      {
        key: "opsbook-bootstrap:stacks[1].environments[0]",
        value: "deploy",
        allowed: 'an environment no other role trusts (stacks "staging" does)',
      },
    ],
    [
      "a deploy environment that is the preview's",
      { "opsbook-bootstrap:stacks": [{ name: "staging", environments: ["preview"] }] },
      {
        key: "opsbook-bootstrap:stacks[0].environments[0]",
        value: "preview",
        allowed: "an environment no other role trusts (the preview role does)",
      },
    ],
    [
      "a role name over IAM's 64 characters",
      {
        "opsbook-bootstrap:project": "a-project-name-that-is-rather-long-xx",
        "opsbook-bootstrap:stacks": [{ name: "production-eu-west", environments: ["production"] }],
      },
      {
        key: "opsbook-bootstrap:stacks[0].name",
        value: "production-eu-west",
        allowed: /within 64 characters/,
      },
    ],
    [
      "a misspelt aws key",
      { "aws:regon": "eu-west-1" },
      { key: "aws:regon", value: "eu-west-1", allowed: /did you mean "aws:region"\?/ },
    ],
  ])("%s", (_name, overrides, expected) => {
    const problem = problemsOf(raw(overrides)).problems.find((p) => p.key === expected.key);
    expect(problem).toBeDefined();
    expect(problem!.value).toEqual(expected.value);
    if (expected.allowed instanceof RegExp) expect(problem!.allowed).toMatch(expected.allowed);
    else expect(problem!.allowed).toBe(expected.allowed);
    expect(problem!.fix).toMatch(/^pulumi config (set|rm) .* --stack ci/);
  });

  test("a secret under a misspelt key is never printed", () => {
    const error = problemsOf(
      raw({ "opsbook-bootstrap:token": "hunter2-but-secret" }),
      new Set(["opsbook-bootstrap:token"]),
    );
    expect(error.message).not.toContain("hunter2");
    expect(error.problems[0]).toMatchObject({ key: "opsbook-bootstrap:token", value: "[secret]" });
  });
});

describe("policy documents", () => {
  test("a trust of two subjects lists both under StringEquals", () => {
    expect(githubTrustPolicy("arn:p", ["repo:o/r:environment:preview", "repo:o/r:pull_request"]).Statement[0]).toEqual({
      Sid: "GitHubActionsJobs",
      Effect: "Allow",
      Principal: { Federated: "arn:p" },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": ["repo:o/r:environment:preview", "repo:o/r:pull_request"],
        },
      },
    });
  });

  test("a preview of no stack decrypts nothing", () => {
    const doc = previewPolicy({
      stateBucketArn: "arn:b",
      stateKeyArn: "arn:k",
      region: "eu-west-1",
      project: "opsbook",
      stacks: [],
    });
    expect(doc.Statement.map((s) => s.Sid)).not.toContain("DecryptStackSecrets");
  });

  test("a stack the preview role does not preview: neither its state nor its key is reachable", () => {
    const doc = previewPolicy({
      stateBucketArn: "arn:aws:s3:::state",
      stateKeyArn: "arn:k",
      region: "eu-west-1",
      project: "opsbook",
      stacks: [{ name: "staging", secretsKeyArn: "arn:staging-key" }],
    });
    const text = JSON.stringify(doc);
    expect(text).not.toContain("production");
    expect(doc.Statement.find((st) => st.Sid === "NeverReadOtherObjects")!.NotResource).toEqual([
      "arn:aws:s3:::state/.pulumi/meta.yaml",
      "arn:aws:s3:::state/.pulumi/stacks/opsbook/staging.json*",
      "arn:aws:s3:::state/.pulumi/history/opsbook/staging/*",
      "arn:aws:s3:::state/.pulumi/backups/opsbook/staging/*",
      "arn:aws:s3:::state/.pulumi/locks/organization/opsbook/staging/*",
    ]);
    expect(doc.Statement.find((st) => st.Sid === "DecryptStackSecrets")!.Resource).toEqual(["arn:staging-key"]);
  });
});
