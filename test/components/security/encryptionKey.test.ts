import { EncryptionKey } from "../../../components/security/encryptionKey";
import { one, policyOf, recordResources, settle } from "../../helpers/mocks";

describe("EncryptionKey", () => {
  test("rotates yearly, is protected on request and lets only the named service use it", async () => {
    const resources = await recordResources();
    new EncryptionKey("logs", {
      description: "log groups",
      accountId: "123456789012",
      services: [
        {
          principal: "logs.eu-west-1.amazonaws.com",
          condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:*" } },
        },
      ],
      protect: true,
    });
    await settle();
    const key = one(resources, "aws:kms/key:Key", "logs-key");
    expect(key.protect).toBe(true);
    expect(key.inputs).toMatchObject({ description: "log groups", enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(policyOf(key).Statement).toEqual([
      {
        Sid: "AccountAdministersThroughIam",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:root" },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "ServiceUse0",
        Effect: "Allow",
        Principal: { Service: "logs.eu-west-1.amazonaws.com" },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:*" } },
      },
    ]);
    expect(one(resources, "aws:kms/alias:Alias", "logs-alias").inputs).toEqual({
      namePrefix: "alias/opsbook-logs-",
      targetKeyId: "logs-key-key-id",
    });
  });

  test("names its alias as told, so stacks sharing an account tell their keys apart", async () => {
    const resources = await recordResources();
    new EncryptionKey("backups", {
      description: "dumps",
      accountId: "123456789012",
      protect: false,
      aliasName: "opsbook-staging-backups",
    });
    await settle();
    expect(one(resources, "aws:kms/alias:Alias", "backups-alias").inputs.namePrefix).toBe(
      "alias/opsbook-staging-backups-",
    );
  });

  test("rejects a deletion window AWS would refuse", async () => {
    await recordResources();
    expect(
      () => new EncryptionKey("bad", { description: "x", accountId: "1", protect: false, deletionWindowInDays: 3 }),
    ).toThrow("deletionWindowInDays must be a whole number from 7 to 30, got 3");
  });
});
