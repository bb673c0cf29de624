import { AppSecrets } from "../../../components/service/appSecrets";
import { idOfOne, ofType, one, recordResources, resolve, settle } from "../../helpers/mocks";

describe("AppSecrets", () => {
  test("generates one secret per name with the rotation keeper, keeps it in Secrets Manager and hands it over as ECS secrets", async () => {
    const resources = await recordResources();
    const secrets = new AppSecrets("prod", {
      names: ["JWT_SECRET", "ENCRYPTION_KEY"],
      length: 48,
      rotation: "2026-Q4",
      kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/app",
      protect: true,
    });
    await settle();
    expect(one(resources, "random:index/randomPassword:RandomPassword", "prod-jwt-secret").inputs).toEqual({
      length: 48,
      special: false,
      keepers: { rotation: "2026-Q4" },
    });
    const secret = one(resources, "aws:secretsmanager/secret:Secret", "prod-encryption-key");
    expect(secret.protect).toBe(true);
    expect(secret.inputs).toMatchObject({
      namePrefix: "opsbook/prod/encryption-key-",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/app",
      recoveryWindowInDays: 30,
    });
    // The value goes to Secrets Manager as a secret, never in clear text in the plan.
    expect(one(resources, "aws:secretsmanager/secretVersion:SecretVersion", "prod-jwt-secret").inputs).toEqual({
      secretId: idOfOne(resources, "aws:secretsmanager/secret:Secret", "prod-jwt-secret"),
      secretString: "[secret]",
    });
    expect(ofType(resources, "aws:secretsmanager/secret:Secret")).toHaveLength(2);
    expect(await resolve(secrets.connection.secrets)).toEqual({
      JWT_SECRET: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-jwt-secret",
      ENCRYPTION_KEY: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-encryption-key",
    });
    expect(await resolve(secrets.connection.kmsKeyArns)).toEqual(["arn:aws:kms:eu-west-1:123456789012:key/app"]);
  });
});
