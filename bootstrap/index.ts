/**
 * The CI bootstrap program: `pulumi up --stack ci` in this directory, once per AWS account, with
 * administrator credentials (README "CI set-up"). The config is validated before anything is
 * declared; the exported object is what the GitHub repository's variables are set from.
 */
import * as pulumi from "@pulumi/pulumi";
import { CiBootstrap } from "./ci";
import { loadBootstrapConfig } from "./load";

const config = loadBootstrapConfig();
const ci = new CiBootstrap("ci", config);

export = {
  backendUrl: ci.backendUrl,
  stateBucket: ci.stateBucket.bucket,
  previewRoleArn: ci.previewRole.arn,
  deployRoleArns: pulumi.output(Object.fromEntries(Object.entries(ci.stacks).map(([s, a]) => [s, a.role.arn]))),
  secretsProviders: pulumi.output(
    Object.fromEntries(Object.entries(ci.stacks).map(([s, a]) => [s, a.secretsProvider])),
  ),
};
