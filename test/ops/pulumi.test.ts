/**
 * ops/pulumi.ts over the fake `pulumi` (test/ops/fake-pulumi): the workspaces a command opens share
 * one `pulumi version`, and a missing CLI is asked for again rather than remembered.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openStack } from "../../ops/pulumi";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-pulumi-"));
const logFile = path.join(dir, "calls.jsonl");
const savedEnv = { ...process.env };
beforeAll(() => {
  fs.writeFileSync(path.join(dir, "scenario.json"), JSON.stringify({ stacks: ["staging"], history: [], outputs: {} }));
  process.env.FAKE_PULUMI_SCENARIO = path.join(dir, "scenario.json");
  process.env.FAKE_PULUMI_LOG = logFile;
});
afterAll(() => {
  process.env = savedEnv;
  fs.rmSync(dir, { recursive: true, force: true });
});

const calls = (): string[][] =>
  fs.existsSync(logFile)
    ? fs
        .readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { args: string[] }).args)
    : [];

test("without pulumi on PATH the error says how to fix it, and a later lookup finds the CLI once it is there", async () => {
  process.env.PATH = "/nonexistent";
  const missing = openStack("staging", dir);
  await expect(missing).rejects.toMatchObject({
    message: 'cannot select stack "staging": the Pulumi CLI (pulumi) is not on PATH',
    hint: "install it (https://www.pulumi.com/docs/install/) and put its directory on PATH, then run again",
  });
  expect(calls()).toEqual([]);

  process.env.PATH = `${path.join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  await openStack("staging", dir);
  await openStack("staging", path.join(dir, ".."), { PULUMI_CI_SYSTEM: "test" });
  await openStack("staging", dir);
  const names = calls().map((args) => args.slice(0, 2).join(" "));
  expect(names).toEqual(["version", "stack select", "stack select", "stack select"]);
});

test("a CLI older than the Automation API's minimum is refused, unless the workspace's environment skips the check", async () => {
  fs.writeFileSync(
    path.join(dir, "scenario.json"),
    JSON.stringify({ stacks: ["staging"], history: [], outputs: {}, version: "v3.0.0" }),
  );
  process.env.PATH = `${path.join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  delete process.env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK;
  // A module registry of its own: no CLI looked up yet.
  let isolated: typeof import("../../ops/pulumi") | undefined;
  jest.isolateModules(() => {
    isolated = jest.requireActual<typeof import("../../ops/pulumi")>("../../ops/pulumi");
  });
  const old = isolated!.openStack("staging", dir);
  await expect(old).rejects.toThrow(/cannot select stack "staging": .*[Mm]inimum version/);
  await expect(old).rejects.toMatchObject({
    hint: "install a Pulumi CLI the Automation API supports (https://www.pulumi.com/docs/install/), or set PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true to skip its version check",
  });
  const skipped = await isolated!.openStack("staging", dir, { PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true" });
  expect(skipped.name).toBe("staging");
});

test("a stack the backend does not hold keeps the hint about the backend and the stack name", async () => {
  fs.writeFileSync(path.join(dir, "scenario.json"), JSON.stringify({ stacks: ["staging"], history: [], outputs: {} }));
  process.env.PATH = `${path.join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  const unknown = openStack("produciton", dir);
  await expect(unknown).rejects.toThrow(/^cannot select stack "produciton": /);
  await expect(unknown).rejects.toMatchObject({
    hint: "check `pulumi login` (the state backend) and the stack name: pulumi stack ls",
  });
});
