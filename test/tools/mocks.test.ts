import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { mockId } from "../../tools/plan/placeholders";
import { type RecordedResource, idOf, one, recordResources, resolve, settle, sharedIds } from "../helpers/mocks";

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

describe("placeholder ids", () => {
  test("differ for resources that share a name, across types and parents, and repeat on every run", async () => {
    const resources = await recordResources();
    const group = new aws.ec2.SecurityGroup("db", { description: "PostgreSQL" });
    new aws.rds.ParameterGroup("db", { family: "postgres16" });
    const parentA = new pulumi.ComponentResource("opsbook:test:A", "a");
    const parentB = new pulumi.ComponentResource("opsbook:test:B", "b");
    new aws.s3.Bucket("logs", { bucketPrefix: "opsbook-a-" }, { parent: parentA });
    new aws.s3.Bucket("logs", { bucketPrefix: "opsbook-b-" }, { parent: parentB });
    await settle();
    expect(sharedIds(resources)).toEqual([]);
    const ids = resources.filter((r) => r.custom).map(idOf);
    expect(new Set(ids).size).toBe(4);
    // The name, then 8 hex digits of the URN's hash; a bucket's id is its name, from its prefix.
    expect(ids.filter((id) => /^db-[0-9a-f]{8}$/.test(id))).toHaveLength(2);
    expect(ids.filter((id) => /^opsbook-[ab]-[0-9a-f]{8}$/.test(id))).toHaveLength(2);
    expect(await resolve(group.id)).toBe(idOf(one(resources, "aws:ec2/securityGroup:SecurityGroup", "db")));
    const urn = one(resources, "aws:ec2/securityGroup:SecurityGroup", "db").urn;
    expect(mockId(urn, "db")).toBe(mockId(urn, "db"));
  });

  test("sharedIds names resources that would get one id: two buckets given the same name", () => {
    const bucket = (parent: string): RecordedResource => ({
      urn: `urn:pulumi:test::opsbook::opsbook:test:${parent}$aws:s3/bucket:Bucket::data`,
      type: "aws:s3/bucket:Bucket",
      name: "data",
      custom: true,
      protect: false,
      retainOnDelete: false,
      deleteBeforeReplace: false,
      ignoreChanges: [],
      dependencies: [],
      inputs: { bucket: "opsbook-data" },
    });
    const [a, b] = [bucket("A"), bucket("B")];
    expect(sharedIds([a, b])).toEqual([["opsbook-data", [a.urn, b.urn]]]);
  });
});
