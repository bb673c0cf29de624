/**
 * The opsbook policy pack's contents, without starting it: `index.ts` serves these to the Pulumi
 * engine; the offline runner (`npm run policy`) and the tests import them from here.
 */
import { alarmPolicies } from "./rules/alarms";
import { albPolicies } from "./rules/alb";
import { cloudwatchPolicies } from "./rules/cloudwatch";
import type { OpsbookPolicy } from "./rules/common";
import { ecrPolicies } from "./rules/ecr";
import { ecsPolicies } from "./rules/ecs";
import { elasticachePolicies } from "./rules/elasticache";
import { kmsIamPolicies } from "./rules/kms-iam";
import { kubernetesPolicies } from "./rules/kubernetes";
import { networkPolicies } from "./rules/network";
import { rdsPolicies } from "./rules/rds";
import { s3Policies } from "./rules/s3";
import { statefulPolicies } from "./rules/stack";
import { workloadPolicies } from "./rules/workloads";
import { iamPolicies } from "./rules/iam";
import { worldPolicies } from "./rules/world";
import { alarmThresholdPolicies } from "./rules/alarmThresholds";
import { keyAndSecretPolicies } from "./rules/keysAndSecrets";
import { wafPolicies } from "./rules/waf";

export type { OpsbookPolicy };

/** The pack's name, as violations show it. */
export const PACK_NAME = "opsbook";

export const PACK_DESCRIPTION =
  "The opsbook platform's security rules and the runbooks' own: encryption, private data stores, backups, automatic rollback, alarm coverage and protection of stateful resources.";

/** Every policy of the pack, grouped by concern. */
export const policies: OpsbookPolicy[] = [
  ...rdsPolicies,
  ...elasticachePolicies,
  ...ecsPolicies,
  ...ecrPolicies,
  ...kubernetesPolicies,
  ...albPolicies,
  ...s3Policies,
  ...networkPolicies,
  ...cloudwatchPolicies,
  ...alarmPolicies,
  ...kmsIamPolicies,
  ...statefulPolicies,
  ...workloadPolicies,
  ...iamPolicies,
  ...worldPolicies,
  ...alarmThresholdPolicies,
  ...keyAndSecretPolicies,
  ...wafPolicies,
];
