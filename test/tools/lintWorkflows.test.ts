import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkActionInputs, tableKey } from "../../tools/lint/actionInputs";
import { formatFindings, lintWorkflow, lintWorkflows } from "../../tools/lint/actionlint";

/** A pull-request workflow; `step` is spliced in as its last step. */
function workflow(step: string): string {
  return [
    "name: t",
    "on: pull_request",
    "permissions:",
    "  contents: read",
    "jobs:",
    "  check:",
    "    runs-on: ubuntu-latest",
    "    steps:",
    "      - uses: actions/checkout@v7",
    step,
    "",
  ].join("\n");
}

describe("lintWorkflow (actionlint)", () => {
  test("finds the script injection of a pull request title in a run step", async () => {
    const findings = await lintWorkflow(
      workflow('      - run: echo "${{ github.event.pull_request.title }}"'),
      "bad.yml",
    );
    expect(findings.map(({ file, line, column, kind }) => ({ file, line, column, kind }))).toEqual([
      { file: "bad.yml", line: 10, column: 24, kind: "expression" },
    ]);
    expect(findings[0]?.message).toMatch(
      /^"github\.event\.pull_request\.title" is potentially untrusted\. avoid using it directly in inline scripts\. instead, pass it through an environment variable\./,
    );
  });

  test("passes the same title through an environment variable", async () => {
    const safe = workflow(
      ['      - run: echo "$TITLE"', "        env:", "          TITLE: ${{ github.event.pull_request.title }}"].join(
        "\n",
      ),
    );
    expect(await lintWorkflow(safe, "safe.yml")).toEqual([]);
  });

  test("accepts the vars context it predates, and still reports a misspelled context", async () => {
    const step = (context: string) =>
      ['      - run: echo "$ROLE"', "        env:", `          ROLE: \${{ ${context}.AWS_PREVIEW_ROLE_ARN }}`].join(
        "\n",
      );
    expect(await lintWorkflow(workflow(step("vars")), "vars.yml")).toEqual([]);
    const typo = await lintWorkflow(workflow(step("var")), "var.yml");
    expect(formatFindings(typo)).toMatch(
      /^var\.yml:12:21: undefined variable "var"\. available variables are .* \[expression\]$/,
    );
  });
});

describe("checkActionInputs", () => {
  test("reports an input the action does not document, with the ones it does", () => {
    const source = workflow(
      [
        "      - uses: pulumi/actions@v7",
        "        with:",
        "          command: preview",
        "          policyPack: policy",
      ].join("\n"),
    );
    const findings = checkActionInputs(source, "pulumi.yml");
    expect(findings.map(({ line, column, kind }) => ({ line, column, kind }))).toEqual([
      { line: 13, column: 11, kind: "action-input" },
    ]);
    expect(findings[0]?.message).toMatch(
      /^"policyPack" is not an input of pulumi\/actions@v7; its inputs are: command, stack-name, .*policyPacks, policyPackConfigs/,
    );
  });

  test("reports an action version it has no input list for", () => {
    const findings = checkActionInputs(workflow("      - uses: actions/setup-node@v99"), "node.yml");
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      [
        10,
        '"actions/setup-node@v99" has no input list in tools/lint/actionInputs.ts: add its documented inputs there (from its action.yml at that major version)',
      ],
    ]);
  });

  test("reads the major version of a commit pin from its comment", () => {
    const sha = "3d3c42e5aac5ba805825da76410c181273ba90b1";
    expect(tableKey(`actions/checkout@${sha}`, " v7.0.1")).toBe("actions/checkout@v7");
    expect(tableKey(`actions/checkout@${sha}`, " v7")).toBe("actions/checkout@v7");
    expect(tableKey("actions/checkout@v7", null)).toBe("actions/checkout@v7");
    // Without a version the pin is looked up as written, and so reported.
    expect(tableKey(`actions/checkout@${sha}`, undefined)).toBe(`actions/checkout@${sha}`);
    const pinned = workflow(
      [
        `      - uses: pulumi/actions@${"8e5e406f4007fca908480587cb9893c07090f58d"} # v7.0.0`,
        "        with:",
        "          policyPack: policy",
      ].join("\n"),
    );
    expect(checkActionInputs(pinned, "p.yml").map((f) => f.message)).toEqual([
      expect.stringMatching(/^"policyPack" is not an input of pulumi\/actions@v7; /),
    ]);
  });
});

describe("lintWorkflows (a repository's workflows)", () => {
  test("reports the workflow properties too, and lints every file", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-lint-"));
    try {
      fs.mkdirSync(path.join(root, ".github", "workflows"), { recursive: true });
      fs.writeFileSync(path.join(root, ".github", "workflows", "a.yml"), workflow('      - run: echo "$A"'));
      const { files, findings } = await lintWorkflows(root);
      expect(files).toHaveLength(1);
      expect(formatFindings(findings).split("\n")).toEqual([
        expect.stringMatching(
          /^\.github\/workflows\/a\.yml:6:3: job "check" declares no permissions.* \[permissions\]$/,
        ),
        expect.stringMatching(
          /^\.github\/workflows\/a\.yml:9:15: "actions\/checkout@v7" is not pinned to a commit.* \[pinned-action\]$/,
        ),
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
