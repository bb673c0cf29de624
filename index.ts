/**
 * The opsbook program: `pulumi up --stack staging|production` runs this file. The stack config is
 * validated before anything is declared (stacks/config.ts); the exported object is the stack's outputs.
 */
import { loadConfig } from "./stacks/config";
import { buildPlatform, stackOutputs } from "./stacks/platform";

export = stackOutputs(buildPlatform(loadConfig()));
