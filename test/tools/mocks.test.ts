import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { one, recordResources, resolve, settle } from "../helpers/mocks";

describe("recording mocks", () => {
  test("record a secret input as [secret], never its value, while the program still sees the value", async () => {
    const resources = await recordResources();
    const parameter = new aws.ssm.Parameter("p", { type: "SecureString", value: pulumi.secret("hunter2") });
    await settle();
    expect(one(resources, "aws:ssm/parameter:Parameter", "p").inputs).toEqual({
      type: "SecureString",
      value: "[secret]",
    });
    expect(await resolve(parameter.value)).toBe("hunter2");
  });
});
