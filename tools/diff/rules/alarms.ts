/**
 * Rules about being told when something breaks: an alarm deleted, or changed so that it fires
 * later or never (a threshold moved away from the trouble, more periods or datapoints before it
 * fires, a longer period, an action or its actions removed, missing data treated as fine).
 */
import { asText, isOn, isUnknown, list, num, show } from "../values";
import { type Finding, increased, isModified, type Rule, sides } from "./rule";

const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const ALARM_TYPES = new Set([METRIC_ALARM, "aws:cloudwatch/compositeAlarm:CompositeAlarm"]);

const removed: Rule = (change) => {
  if (change.op !== "delete" || !ALARM_TYPES.has(change.type)) return [];
  const name = change.before?.inputs.alarmName ?? change.name;
  return [{ kind: "alarm-removed", detail: `alarm ${show(name)} deleted` }];
};

/** Which way a threshold must move to fire later, for each comparison operator. */
function looserDirection(operator: unknown): "up" | "down" | undefined {
  if (
    operator === "GreaterThanThreshold" ||
    operator === "GreaterThanOrEqualToThreshold" ||
    operator === "GreaterThanUpperThreshold"
  )
    return "up";
  if (
    operator === "LessThanThreshold" ||
    operator === "LessThanOrEqualToThreshold" ||
    operator === "LessThanLowerThreshold"
  )
    return "down";
  return undefined;
}

function thresholdFindings(b: Record<string, unknown>, a: Record<string, unknown>): Finding[] {
  if (isUnknown(a.comparisonOperator)) return [];
  if (b.comparisonOperator !== a.comparisonOperator) {
    return [
      {
        kind: "alarm-loosened",
        detail: `comparisonOperator ${show(b.comparisonOperator)} → ${show(a.comparisonOperator)}`,
      },
    ];
  }
  const from = num(b.threshold);
  const to = num(a.threshold);
  const direction = looserDirection(a.comparisonOperator);
  if (from === undefined || to === undefined || direction === undefined) return [];
  const looser = direction === "up" ? to > from : to < from;
  return looser
    ? [{ kind: "alarm-loosened", detail: `threshold ${from} → ${to} (${String(a.comparisonOperator)})` }]
    : [];
}

function waitFindings(b: Record<string, unknown>, a: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  for (const key of ["evaluationPeriods", "period"]) {
    const longer = increased(b[key], a[key]);
    if (longer) findings.push({ kind: "alarm-loosened", detail: `${key} ${longer.from} → ${longer.to}` });
  }
  // Unset, datapointsToAlarm equals evaluationPeriods: compare what the alarm effectively waits for.
  const datapoints = increased(b.datapointsToAlarm ?? b.evaluationPeriods, a.datapointsToAlarm ?? a.evaluationPeriods);
  if (datapoints && (a.datapointsToAlarm !== undefined || b.datapointsToAlarm !== undefined)) {
    findings.push({ kind: "alarm-loosened", detail: `datapointsToAlarm ${datapoints.from} → ${datapoints.to}` });
  }
  return findings;
}

function actionFindings(b: Record<string, unknown>, a: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  if (!isUnknown(a.alarmActions)) {
    const now = new Set(list(a.alarmActions).map((x) => JSON.stringify(x)));
    for (const action of list(b.alarmActions)) {
      if (!now.has(JSON.stringify(action)))
        findings.push({ kind: "alarm-loosened", detail: `alarm action ${show(action)} removed` });
    }
  }
  // actionsEnabled defaults to true: only an explicit false silences the alarm.
  if (
    (b.actionsEnabled === undefined || isOn(b.actionsEnabled)) &&
    (a.actionsEnabled === false || a.actionsEnabled === "false")
  ) {
    findings.push({ kind: "alarm-loosened", detail: `actionsEnabled ${show(b.actionsEnabled ?? true)} → false` });
  }
  const quiet = new Set(["notBreaching", "ignore"]);
  if (
    typeof a.treatMissingData === "string" &&
    quiet.has(a.treatMissingData) &&
    !quiet.has(asText(b.treatMissingData, "missing"))
  ) {
    findings.push({
      kind: "alarm-loosened",
      detail: `treatMissingData ${show(b.treatMissingData ?? "missing")} → ${show(a.treatMissingData)}`,
    });
  }
  return findings;
}

const loosened: Rule = (change) => {
  if (!isModified(change) || !ALARM_TYPES.has(change.type)) return [];
  const { b, a } = sides(change);
  const metric = change.type === METRIC_ALARM ? [...thresholdFindings(b, a), ...waitFindings(b, a)] : [];
  return [...metric, ...actionFindings(b, a)];
};

export const ALARM_RULES: readonly Rule[] = [removed, loosened];
