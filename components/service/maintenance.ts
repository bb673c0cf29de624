import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type ServiceRoute, allowRules, MAINTENANCE_PRIORITY, maintenancePage } from "../../lib/maintenance";
import type { MaintenanceSettings } from "./settings";

/** The parsed `opsbook:maintenance` settings (./settings.ts) and the listener and services it fronts. */
export interface MaintenanceModeArgs extends Omit<MaintenanceSettings, "enabled"> {
  /** The HTTPS listener the services' rules are on. */
  listenerArn: pulumi.Input<string>;
  /** Each load-balanced service's route and target group, in config order. */
  services: Array<ServiceRoute & { targetGroupArn: pulumi.Input<string> }>;
}

/**
 * Maintenance mode (R-ops-maintenance-mode): one listener rule at priority 99, ahead of every
 * service rule (100 and up), answers every request with a 503 and the maintenance page; rules at
 * priorities 1 to 98 still forward requests from the `allow` CIDRs to the services by their usual
 * hosts and paths (`lib/maintenance.ts` `allowRules`). Nothing else changes: the services, their
 * target groups and health checks keep running, so the team can verify through the load balancer
 * before switching it off. Declared only while `maintenance.enabled` is true, so switching it off
 * deletes every rule it added.
 */
export class MaintenanceMode extends pulumi.ComponentResource {
  /** The catch-all 503 rule. */
  readonly page: aws.lb.ListenerRule;
  readonly allowRules: aws.lb.ListenerRule[] = [];

  constructor(name: string, args: MaintenanceModeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:MaintenanceMode", name, {}, opts);
    const groups = new Map(args.services.map((s) => [s.name, s.targetGroupArn]));
    for (const rule of allowRules(args.services, args.allow)) {
      this.allowRules.push(
        new aws.lb.ListenerRule(
          `${name}-maintenance-allow-${rule.priority}`,
          {
            listenerArn: args.listenerArn,
            priority: rule.priority,
            actions: [{ type: "forward", targetGroupArn: groups.get(rule.service)! }],
            conditions: [
              { sourceIp: { values: rule.sourceIps } },
              ...(rule.hosts.length > 0 ? [{ hostHeader: { values: rule.hosts } }] : []),
              ...(rule.paths.length > 0 ? [{ pathPattern: { values: rule.paths } }] : []),
            ],
          },
          { parent: this },
        ),
      );
    }
    this.page = new aws.lb.ListenerRule(
      `${name}-maintenance`,
      {
        listenerArn: args.listenerArn,
        priority: MAINTENANCE_PRIORITY,
        actions: [
          {
            type: "fixed-response",
            fixedResponse: {
              statusCode: "503",
              contentType: "text/html",
              messageBody: maintenancePage(args.message, args.retryAfterSeconds),
            },
          },
        ],
        // A rule needs a condition; "/*" matches every path.
        conditions: [{ pathPattern: { values: ["/*"] } }],
      },
      // The allow rules first: a client in `allow` is never answered by the page, even mid-update.
      { parent: this, dependsOn: this.allowRules },
    );
    this.registerOutputs({});
  }
}
