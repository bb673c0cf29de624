import * as pulumi from "@pulumi/pulumi";
import { secretConfigKeys } from "../../lib/pulumiConfig";

test("the keys Pulumi marks secret are the ones reported secret, and only those", () => {
  const config = { "opsbook:environment": "staging", "opsbook:services": "[]", "aws:region": "eu-west-1" };
  pulumi.runtime.setAllConfig(config, ["opsbook:services"]);
  expect(secretConfigKeys(pulumi.runtime.allConfig())).toEqual(new Set(["opsbook:services"]));
  pulumi.runtime.setAllConfig(config, []);
  expect(secretConfigKeys(pulumi.runtime.allConfig())).toEqual(new Set());
});
