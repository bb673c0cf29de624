import * as ki from "../../rules/kms-iam";
import { changed, violations } from "../helpers";

const key = { description: "opsbook production: database", enableKeyRotation: true, deletionWindowInDays: 30 };
const scoped = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: ["arn:aws:logs:eu-west-1:123456789012:log-group:flow:*"],
    },
  ],
});
const admin = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "logs:*", Resource: "*" },
    { Effect: "Allow", Action: "*", Resource: "*" },
  ],
});

describe("kms-key-rotation", () => {
  test("passes a rotating key and skips asymmetric keys", async () => {
    expect(await violations(ki.kmsKeyRotation, ki.KMS_KEY, key)).toEqual([]);
    expect(
      await violations(ki.kmsKeyRotation, ki.KMS_KEY, { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }),
    ).toEqual([]);
  });

  test("reports a key that never rotates", async () => {
    expect(
      await violations(ki.kmsKeyRotation, ki.KMS_KEY, changed(key, { enableKeyRotation: undefined }), {
        name: "data-key",
      }),
    ).toEqual(['KMS key "data-key": enableKeyRotation is not set; required: true. Fix: set enableKeyRotation: true.']);
  });

  test("reports a rotation period longer than the configured maximum", async () => {
    expect(
      await violations(ki.kmsKeyRotation, ki.KMS_KEY, changed(key, { rotationPeriodInDays: 730 }), {
        name: "data-key",
      }),
    ).toEqual([
      'KMS key "data-key": rotationPeriodInDays is 730; required: at most 365. Fix: set rotationPeriodInDays: 365 or remove it (365).',
    ]);
    expect(
      await violations(ki.kmsKeyRotation, ki.KMS_KEY, changed(key, { rotationPeriodInDays: 730 }), {
        config: { maximumRotationDays: 730 },
      }),
    ).toEqual([]);
  });
});

describe("iam-no-admin-wildcards", () => {
  test("passes scoped policies in every policy resource", async () => {
    expect(
      await violations(ki.iamNoAdminWildcards, "aws:iam/rolePolicy:RolePolicy", { role: "flow-logs", policy: scoped }),
    ).toEqual([]);
    expect(
      await violations(ki.iamNoAdminWildcards, "aws:iam/role:Role", {
        assumeRolePolicy: "{}",
        inlinePolicies: [{ name: "logs", policy: scoped }],
      }),
    ).toEqual([]);
  });

  test("reports an Allow of every action on every resource, and only that statement", async () => {
    expect(
      await violations(ki.iamNoAdminWildcards, "aws:iam/policy:Policy", { policy: admin }, { name: "ops" }),
    ).toEqual([
      'IAM policy "ops": policy Statement[1] is Allow of "*" on "*"; required: the specific actions on the specific resource ARNs the principal uses. Fix: list the actions (e.g. "logs:PutLogEvents") and the resource ARNs instead of "*".',
    ]);
  });

  test("reads inline policies of a role", async () => {
    expect(
      await violations(
        ki.iamNoAdminWildcards,
        "aws:iam/role:Role",
        {
          inlinePolicies: [
            { name: "ok", policy: scoped },
            { name: "admin", policy: admin },
          ],
        },
        { name: "task" },
      ),
    ).toEqual([
      expect.stringContaining('IAM role "task": inlinePolicies[1].policy Statement[1] is Allow of "*" on "*"'),
    ]);
  });

  test("finds admin statements given as objects, with *:*, and not in Deny statements", () => {
    expect(ki.adminStatements({ Statement: { Effect: "Allow", Action: ["*:*"], Resource: ["*"] } })).toEqual([0]);
    expect(ki.adminStatements({ Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] })).toEqual([]);
  });
});
