import type { Plan } from "./plan";
import type { RecordedResource } from "./mocks";

/** The plan as a tree of resources under their parents, with each resource's protect flag. */
export function renderTree(plan: Plan): string {
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const r of plan.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const lines = [`${plan.project} / ${plan.stack}: ${plan.resources.length} resources`];
  const walk = (parent: string | undefined, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained" : ""].filter(Boolean).join(", ");
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags ? `  [${flags}]` : ""}`);
      walk(r.urn, prefix + (last ? "   " : "│  "));
    });
  };
  walk(undefined, "");
  const outputs = Object.entries(plan.outputs);
  if (outputs.length > 0) {
    lines.push("", "Outputs:");
    for (const [k, v] of outputs) lines.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  return lines.join("\n");
}
