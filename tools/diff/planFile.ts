/**
 * Reads the offline plan's JSON (`npm run plan -- --stack <name> --json`) and checks that it is
 * one, so that a wrong file fails with a message instead of an empty diff.
 */
import * as fs from "node:fs";
import type { PlanLike } from "./compare";
import type { ResourceState } from "./model";

const FIX = "Produce one with: npm run plan -- --stack <name> --json > plan.json";

function fail(source: string, problem: string): never {
  throw new Error(`${source} is not an offline plan: ${problem}. ${FIX}`);
}

/** Validates parsed JSON as a plan. `source` names the input in errors. */
export function toPlan(document: unknown, source: string): PlanLike {
  const doc = document as { stack?: unknown; project?: unknown; resources?: unknown } | null;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    fail(source, `expected a JSON object, got ${JSON.stringify(document)?.slice(0, 80)}`);
  if (typeof doc.stack !== "string" || typeof doc.project !== "string")
    fail(source, 'it has no "stack" and "project" strings');
  if (!Array.isArray(doc.resources)) fail(source, 'it has no "resources" list');
  const resources = doc.resources.map((raw, index): ResourceState => {
    const r = raw as Partial<ResourceState> | null;
    if (
      r === null ||
      typeof r !== "object" ||
      typeof r.urn !== "string" ||
      typeof r.type !== "string" ||
      typeof r.name !== "string"
    ) {
      fail(source, `resources[${index}] lacks "urn", "type" or "name"`);
    }
    const inputs = r.inputs !== null && typeof r.inputs === "object" && !Array.isArray(r.inputs) ? r.inputs : {};
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      custom: r.custom !== false,
      protect: r.protect === true,
      retainOnDelete: r.retainOnDelete === true,
      inputs,
      aliases: Array.isArray(r.aliases) ? r.aliases.filter((a): a is string => typeof a === "string") : [],
    };
  });
  return { stack: doc.stack, project: doc.project, resources };
}

/** Parses JSON text, naming the source when it is not JSON. */
export function parseJson(textValue: string, source: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch (err) {
    throw new Error(`${source} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Reads a file, or standard input for "-". */
export function readInput(file: string): string {
  try {
    return fs.readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${file === "-" ? "standard input" : `"${file}"`}${code ? ` (${code})` : ""}: check the path`,
    );
  }
}

/** Reads a plan file. */
export function readPlanFile(file: string): PlanLike {
  return toPlan(parseJson(readInput(file), `"${file}"`), `"${file}"`);
}
