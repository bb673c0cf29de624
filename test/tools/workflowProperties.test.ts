/**
 * The workflow properties of tools/lint/workflowProperties.ts: every workflow in .github/workflows
 * has them, and each property fails on a workflow that breaks it.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { workflowFiles } from "../../tools/lint/actionlint";
import { checkWorkflowProperties } from "../../tools/lint/workflowProperties";

const ROOT = path.join(__dirname, "..", "..");
const CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";

/** `kind: line` of each finding, to compare whole results. */
function kinds(source: string): string[] {
  return checkWorkflowProperties(source, "t.yml").map((f) => `${f.kind}: ${f.line}`);
}
function messages(source: string): string[] {
  return checkWorkflowProperties(source, "t.yml").map((f) => f.message);
}

/** A workflow of one job; `steps` and `job` are spliced in, indented as written. */
function workflow({
  on = "push",
  top = ["permissions:", "  contents: read"],
  job = ["    permissions:", "      contents: read"],
  steps = [`      - uses: ${CHECKOUT}`],
}: { on?: string; top?: string[]; job?: string[]; steps?: string[] } = {}): string {
  return [
    "name: t",
    `on: ${on}`,
    ...top,
    "jobs:",
    "  j:",
    "    runs-on: ubuntu-latest",
    ...job,
    "    steps:",
    ...steps,
    "",
  ].join("\n");
}

describe("the repository's workflows", () => {
  const files = workflowFiles(ROOT);

  test("have every property", () => {
    expect(files.map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(["ci.yml", "deploy.yml", "preview.yml", "preview-comment.yml", "rollback.yml"]),
    );
    const findings = files.flatMap((f) => checkWorkflowProperties(fs.readFileSync(f, "utf8"), path.relative(ROOT, f)));
    expect(findings).toEqual([]);
  });

  test("the checks see the jobs they are about (deploy and rollback jobs are recognised)", () => {
    // Each release workflow, with its head check or main-only check removed, must fail: so the
    // passing result above is not a check that matched nothing.
    const deploy = fs.readFileSync(path.join(ROOT, ".github/workflows/deploy.yml"), "utf8");
    expect(kinds(deploy.replaceAll("id: main-head", "id: other"))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^deploy-head-check: /)]),
    );
    const rollback = fs.readFileSync(path.join(ROOT, ".github/workflows/rollback.yml"), "utf8");
    expect(kinds(rollback.replace("git merge-base --is-ancestor", "git merge-base"))).toEqual([
      expect.stringMatching(/^rollback-main-only: /),
    ]);
    expect(kinds(rollback.replace("-${{ github.run_id }}\n", "\n"))).toEqual([
      expect.stringMatching(/^rollback-concurrency: /),
    ]);
  });

  test("the workflows' action pins agree with each other (one SHA per action and version)", () => {
    const pins = new Map<string, Set<string>>();
    for (const f of files) {
      for (const m of fs.readFileSync(f, "utf8").matchAll(/uses: ([^@\s]+)@([0-9a-f]{40}) # (v[\d.]+)/g)) {
        const key = `${m[1]} ${m[3]}`;
        pins.set(key, (pins.get(key) ?? new Set()).add(m[2]!));
      }
    }
    expect(pins.size).toBeGreaterThanOrEqual(7);
    expect([...pins].filter(([, shas]) => shas.size > 1)).toEqual([]);
  });
});

describe("pinned-action", () => {
  test("a tag, a branch or a short SHA fails; a full SHA with a version comment passes", () => {
    for (const ref of ["v7", "main", "3d3c42e"]) {
      expect(kinds(workflow({ steps: [`      - uses: actions/checkout@${ref}`] }))).toEqual(["pinned-action: 11"]);
    }
    expect(messages(workflow({ steps: ["      - uses: actions/checkout@v7"] }))).toEqual([
      '"actions/checkout@v7" is not pinned to a commit: use actions/checkout@<full 40-hex commit SHA> # <version>, the commit its release tag points to',
    ]);
    expect(kinds(workflow())).toEqual([]);
  });

  test("a SHA without its version comment fails", () => {
    const sha = CHECKOUT.split(" ")[0]!;
    expect(messages(workflow({ steps: [`      - uses: ${sha}`] }))).toEqual([
      `"${sha}" names no version: add the release it is, as a comment (# v1.2.3)`,
    ]);
  });

  test("a reusable workflow and a docker image are checked too; local actions are not", () => {
    const reusable = [
      "name: t",
      "on: push",
      "permissions: {}",
      "jobs:",
      "  j:",
      "    permissions: {}",
      "    uses: acme/wf/.github/workflows/x.yml@main",
      "",
    ];
    expect(kinds(reusable.join("\n"))).toEqual(["pinned-action: 7"]);
    expect(kinds(workflow({ steps: ["      - uses: docker://alpine:3.20"] }))).toEqual(["pinned-action: 11"]);
    expect(kinds(workflow({ steps: [`      - uses: docker://alpine@sha256:${"0".repeat(64)}`] }))).toEqual([]);
    expect(kinds(workflow({ steps: ["      - uses: ./.github/actions/local"] }))).toEqual([]);
  });
});

describe("expression-in-script", () => {
  test("an expression in run: fails, the same value through env: passes", () => {
    const bad = workflow({ steps: ['      - run: echo "${{ github.event.head_commit.message }}"'] });
    expect(kinds(bad)).toEqual(["expression-in-script: 11"]);
    const good = workflow({
      steps: [
        '      - run: echo "$MESSAGE"',
        "        env:",
        "          MESSAGE: ${{ github.event.head_commit.message }}",
      ],
    });
    expect(kinds(good)).toEqual([]);
  });

  test("any expression counts, in a block script too: inputs and step outputs are text from outside", () => {
    const bad = workflow({ steps: ["      - run: |", "          set -e", "          deploy ${{ inputs.stack }}"] });
    expect(kinds(bad)).toEqual(["expression-in-script: 11"]);
  });

  test("an expression in a github-script script fails", () => {
    const bad = workflow({
      steps: [
        "      - uses: actions/github-script@3a2844b7e9c422d3c10d287c895573f7108da1b3 # v9.0.0",
        "        with:",
        "          script: core.info('${{ github.event.pull_request.title }}')",
      ],
    });
    expect(kinds(bad)).toEqual(["expression-in-script: 13"]);
  });
});

describe("permissions", () => {
  test("a job without permissions fails, naming the job", () => {
    expect(messages(workflow({ job: [] }))).toEqual([
      'job "j" declares no permissions: list the least it needs (e.g. contents: read)',
    ]);
  });

  test("a workflow without top-level permissions fails, and write-all fails anywhere", () => {
    expect(kinds(workflow({ top: [] }))).toEqual(["permissions: 1"]);
    expect(kinds(workflow({ top: ["permissions: write-all"] }))).toEqual(["permissions: 3"]);
    expect(kinds(workflow({ job: ["    permissions: write-all"] }))).toEqual(["permissions: 8"]);
  });
});

describe("pr-credentials", () => {
  const withSecret = [
    `      - uses: ${CHECKOUT}`,
    "      - run: npm ci && npm run preview",
    "        env:",
    "          PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}",
  ];

  test("a secret in a pull-request job without the gated environment fails; in it, passes", () => {
    expect(kinds(workflow({ on: "pull_request", steps: withSecret }))).toEqual(["pr-credentials: 6"]);
    expect(kinds(workflow({ on: "[push, pull_request]", steps: withSecret }))).toEqual(["pr-credentials: 6"]);
    const gated = workflow({
      on: "pull_request",
      job: ["    environment: preview", "    permissions:", "      contents: read"],
      steps: withSecret,
    });
    expect(kinds(gated)).toEqual([]);
    const otherEnvironment = workflow({
      on: "pull_request",
      job: ["    environment:", "      name: staging", "    permissions:", "      contents: read"],
      steps: withSecret,
    });
    expect(kinds(otherEnvironment)).toEqual(["pr-credentials: 6"]);
  });

  test("an OIDC token counts as a credential; the job's own GITHUB_TOKEN does not", () => {
    const oidc = workflow({ on: "pull_request", job: ["    permissions:", "      id-token: write"] });
    expect(messages(oidc)[0]).toMatch(
      /^job "j" runs pull-request code with an OIDC token but outside a gated environment/,
    );
    const token = workflow({
      on: "pull_request",
      steps: ["      - run: gh pr view", "        env:", "          GH_TOKEN: ${{ secrets.GITHUB_TOKEN }}"],
    });
    expect(kinds(token)).toEqual([]);
    expect(kinds(workflow({ on: "push", steps: withSecret }))).toEqual([]);
  });

  test("a pull_request_target or workflow_run workflow that checks out code fails", () => {
    for (const on of ["pull_request_target", "{ workflow_run: { workflows: [Preview], types: [completed] } }"])
      expect(kinds(workflow({ on }))).toEqual(["pr-credentials: 11"]);
    expect(kinds(workflow({ on: "pull_request_target", steps: ["      - run: gh pr edit"] }))).toEqual([]);
  });
});

describe("risk-gate-from-base and approval-head", () => {
  const baseCheckout = [
    `      - uses: ${CHECKOUT}`,
    "        with:",
    "          ref: ${{ github.event.pull_request.base.sha }}",
    "          path: base",
  ];

  test("the diff rules and the policy pack from the base checkout pass", () => {
    const steps = [
      ...baseCheckout,
      "      - run: npm run --silent diff -- --base-plan a.json --head-plan b.json",
      "        working-directory: base",
      "      - run: (cd base && npm run -s policy -- --plan ../head/plan.json) > policy.txt",
    ];
    expect(kinds(workflow({ on: "pull_request", steps }))).toEqual([]);
  });

  test("the pull request's own copy fails: no base checkout, another directory, or the head's pack", () => {
    const own = [`      - uses: ${CHECKOUT}`, '      - run: npm run --silent diff -- --stack "$STACK" --base HEAD^1'];
    expect(kinds(workflow({ on: "pull_request", steps: own }))).toEqual(["risk-gate-from-base: 12"]);
    const elsewhere = [...baseCheckout, "      - run: cd head && npm run policy -- --stack staging"];
    expect(kinds(workflow({ on: "pull_request", steps: elsewhere }))).toEqual(["risk-gate-from-base: 15"]);
    const pack = [
      ...baseCheckout,
      "      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0",
      "        with:",
      "          command: preview",
      "          policyPacks: policy",
    ];
    expect(messages(workflow({ on: "pull_request", steps: pack }))).toEqual([
      'job "j": policyPacks "policy" is the pull request\'s copy of the pack: use the base checkout\'s (<dir>/policy)',
    ]);
    const basePack = [...pack.slice(0, -1), "          policyPacks: ${{ github.workspace }}/base/policy"];
    expect(kinds(workflow({ on: "pull_request", steps: basePack }))).toEqual([]);
    // On push the code is main's own: nothing to check.
    expect(kinds(workflow({ on: "push", steps: own }))).toEqual([]);
  });

  test("the approval label read on the push itself fails", () => {
    const label = (expression: string) =>
      workflow({
        on: "pull_request",
        steps: ['      - run: test "$APPROVED" = true', "        env:", `          APPROVED: \${{ ${expression} }}`],
      });
    expect(kinds(label("contains(github.event.pull_request.labels.*.name, 'risk-approved')"))).toEqual([
      "approval-head: 6",
    ]);
    expect(
      kinds(
        label(
          "github.event.action != 'synchronize' && contains(github.event.pull_request.labels.*.name, 'risk-approved')",
        ),
      ),
    ).toEqual([]);
  });

  test("the repository's Preview workflow fails without them", () => {
    const preview = fs.readFileSync(path.join(ROOT, ".github/workflows/preview.yml"), "utf8");
    expect(kinds(preview.replaceAll("working-directory: base", "working-directory: ."))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^risk-gate-from-base: /)]),
    );
    expect(kinds(preview.replaceAll("github.event.action != 'synchronize' && ", ""))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^approval-head: /)]),
    );
  });
});

describe("deploy-concurrency and deploy-head-check", () => {
  const deployJob = (
    concurrency: string[] = ["    concurrency:", "      group: deploy-staging", "      cancel-in-progress: false"],
  ) => ["    permissions:", "      contents: read", ...concurrency];
  const deploySteps = [
    `      - uses: ${CHECKOUT}`,
    "      - id: main-head",
    "        run: bash .github/scripts/deploy-preflight.sh",
    "      - if: steps.main-head.outputs.current == 'true'",
    '        run: npx opsbook deploy --stack "$STACK"',
  ];

  test("a deploy job with its own group, never cancelled, after the head check, passes", () => {
    expect(kinds(workflow({ job: deployJob(), steps: deploySteps }))).toEqual([]);
  });

  test("no group, a cancelling group, or a rollback's group fails", () => {
    expect(kinds(workflow({ job: deployJob([]), steps: deploySteps }))).toEqual(["deploy-concurrency: 6"]);
    const cancelling = deployJob(["    concurrency:", "      group: deploy-staging", "      cancel-in-progress: true"]);
    expect(kinds(workflow({ job: cancelling, steps: deploySteps }))).toEqual(["deploy-concurrency: 6"]);
    const defaulted = deployJob(["    concurrency: deploy-staging"]);
    expect(kinds(workflow({ job: defaulted, steps: deploySteps }))).toEqual(["deploy-concurrency: 6"]);
    const shared = deployJob(["    concurrency:", "      group: rollback-staging", "      cancel-in-progress: false"]);
    expect(messages(workflow({ job: shared, steps: deploySteps }))).toEqual([
      'job "j" deploys in group "rollback-staging": a rollback\'s group is its own',
    ]);
  });

  test("a workflow-level group in a deploying workflow fails", () => {
    const top = ["permissions:", "  contents: read", "concurrency: deploy"];
    expect(kinds(workflow({ top, job: deployJob(), steps: deploySteps }))).toEqual(["deploy-concurrency: 5"]);
  });

  test("a deploy without the head check first, or a step it does not gate, fails", () => {
    const noCheck = [`      - uses: ${CHECKOUT}`, '      - run: npx opsbook deploy --stack "$STACK"'];
    expect(kinds(workflow({ job: deployJob(), steps: noCheck }))).toEqual(["deploy-head-check: 6"]);
    const checkSecond = [`      - uses: ${CHECKOUT}`, "      - run: npm ci", ...deploySteps.slice(1)];
    expect(kinds(workflow({ job: deployJob(), steps: checkSecond }))).toEqual(["deploy-head-check: 6"]);
    const ungated = [...deploySteps.slice(0, 3), '      - run: npm run ops -- deploy --stack "$STACK"'];
    expect(kinds(workflow({ job: deployJob(), steps: ungated }))).toEqual(["deploy-head-check: 17"]);
  });
});

describe("rollback-concurrency and rollback-main-only", () => {
  const job = (group = "rollback-${{ github.event.inputs.stack }}-${{ github.run_id }}") => [
    "    permissions:",
    "      contents: read",
    "    concurrency:",
    `      group: ${group}`,
    "      cancel-in-progress: false",
  ];
  const mainOnly = ['      - run: test "$GITHUB_REF" != refs/heads/main && exit 1 || true'];
  const onMain = ['      - run: git merge-base --is-ancestor "$COMMIT" origin/main'];
  const rollback = ['      - run: npx opsbook rollback --stack "$STACK" --to "$TO"'];

  test("its own run's group, main only, the commit on main: passes", () => {
    expect(kinds(workflow({ job: job(), steps: [...mainOnly, ...onMain, ...rollback] }))).toEqual([]);
  });

  test("a group another run can join fails", () => {
    const steps = [...mainOnly, ...onMain, ...rollback];
    expect(messages(workflow({ job: job("pulumi-production"), steps }))).toEqual([
      'job "j" rolls back: its concurrency group must be its own run\'s (include ${{ github.run_id }}, cancel-in-progress: false), because GitHub cancels a pending job when a newer one joins its group',
    ]);
  });

  test("without the main-only check, or without the ancestry check before it, fails", () => {
    expect(kinds(workflow({ job: job(), steps: [...onMain, ...rollback] }))).toEqual(["rollback-main-only: 6"]);
    expect(kinds(workflow({ job: job(), steps: [...mainOnly, ...rollback] }))).toEqual(["rollback-main-only: 6"]);
    // After the rollback is too late.
    expect(kinds(workflow({ job: job(), steps: [...mainOnly, ...rollback, ...onMain] }))).toEqual([
      "rollback-main-only: 6",
    ]);
  });

  test("a dry run changes nothing and needs none of this", () => {
    const dry = workflow({ steps: ['      - run: npx opsbook rollback --stack "$STACK" --dry-run --json'] });
    expect(kinds(dry)).toEqual([]);
  });
});

test("the snippets above are valid YAML workflows", () => {
  expect(parse(workflow())).toMatchObject({ on: "push", jobs: { j: { "runs-on": "ubuntu-latest" } } });
});
