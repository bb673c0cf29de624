/**
 * Entry point of the policy pack: `pulumi preview --policy-pack policy`. Constructing the
 * PolicyPack starts the gRPC server the engine talks to, so nothing else imports this file.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_NAME, policies } from "./pack";

new PolicyPack(PACK_NAME, { description: PACK_DESCRIPTION, enforcementLevel: "mandatory", policies });
