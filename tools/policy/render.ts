/**
 * Violations as `pulumi preview --policy-pack` prints them: per pack, each violation's level, policy,
 * resource (type: name) and URN, then the policy's description and the message.
 */
import type { Diagnostic } from "./engine";

/** Counts of violations by level. */
export function countByLevel(diagnostics: readonly Diagnostic[]): { mandatory: number; advisory: number } {
  const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
  return { mandatory, advisory: diagnostics.length - mandatory };
}

/** The "Policies:" block of a preview, followed by a one-line summary. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  pack: { name: string; version: string; path: string },
  scope: string,
): string {
  const { mandatory, advisory } = countByLevel(diagnostics);
  const lines = ["Policies:", `    ${mandatory > 0 ? "❌" : "✅"} ${pack.name}@v${pack.version} (local: ${pack.path})`];
  // Mandatory first, as they decide the outcome; otherwise in the order the policies reported them.
  const ordered = [
    ...diagnostics.filter((d) => d.enforcementLevel === "mandatory"),
    ...diagnostics.filter((d) => d.enforcementLevel === "advisory"),
  ];
  for (const d of ordered) {
    const where = d.resource ? `  (${d.resource.type}: ${d.resource.name})` : d.urn ? `  (${d.urn})` : "  (stack)";
    lines.push(`        - [${d.enforcementLevel}]  ${d.policyName}${where}`);
    if (d.urn) lines.push(`          ${d.urn}`);
    lines.push(`          ${d.description}`);
    for (const line of d.message.split("\n")) lines.push(`          ${line}`);
  }
  const plural = (n: number, word: string) => `${n} ${word} violation${n === 1 ? "" : "s"}`;
  lines.push("", `${scope}: ${plural(mandatory, "mandatory")}, ${plural(advisory, "advisory")}.`);
  return lines.join("\n");
}
