/**
 * Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program:
 * every key namespaced ("opsbook:network"), objects and lists as JSON text, scalars as text.
 * Values marked `secure:` cannot be decrypted offline and become recognisable placeholders.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface StackFile {
  project: string;
  stack: string;
  /** Namespaced key -> the string the program would receive. */
  config: Record<string, string>;
  /** Keys whose values were `secure:` in the stack file. */
  secretKeys: string[];
}

/** The region the AWS provider takes when a stack file sets no `aws:region` (the local stack). */
export const DEFAULT_REGION = "us-east-1";

/** The region a stack's plan is made in: its `aws:region`, else the provider's default. */
export function regionOfStackFile(file: StackFile): string {
  return file.config["aws:region"] ?? DEFAULT_REGION;
}

/** Stack names that have a `Pulumi.<stack>.yaml` in `root`. */
export function listStacks(root: string): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function readStackFile(root: string, stack: string): StackFile {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack))
    throw new Error(`"${stack}" is not a stack name: use letters, digits, '-', '_' or '.'`);
  const projectFile = path.join(root, "Pulumi.yaml");
  if (!fs.existsSync(projectFile))
    throw new Error(
      `${projectFile} does not exist: run the plan from the project's root, or pass --root <project dir>`,
    );
  const project = (readYaml(projectFile) as { name?: unknown } | null)?.name;
  if (typeof project !== "string") throw new Error(`${projectFile} has no project name: add "name: opsbook"`);

  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(
      `no stack "${stack}": ${file} does not exist. Stacks here: ${listStacks(root).join(", ") || "none"}`,
    );
  }
  const doc = readYaml(file) ?? {};
  const entries =
    typeof doc === "object" && !Array.isArray(doc) ? ((doc as { config?: unknown }).config ?? {}) : undefined;
  if (entries === undefined || entries === null || typeof entries !== "object" || Array.isArray(entries)) {
    throw new Error(
      `${file}: "config" must be a map of keys to values, e.g. "config:\n  aws:region: eu-west-1"; got ${JSON.stringify(entries ?? doc)}`,
    );
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(entries)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    const { text, secret } = toConfigString(key, value);
    config[key] = text;
    if (secret) secretKeys.push(key);
  }
  return { project, stack, config, secretKeys };
}

/** Parses a YAML file; a syntax error names the file and where it is. */
function readYaml(file: string): unknown {
  try {
    return parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    "secure" in value
  );
}

function toConfigString(key: string, value: unknown): { text: string; secret: boolean } {
  if (isSecure(value)) return { text: `[secret ${key}]`, secret: true };
  if (typeof value === "string") return { text: value, secret: false };
  let secret = false;
  // Secure values nested in an object are decrypted by the CLI; offline they become placeholders.
  const replaced = JSON.stringify(value, (k, v: unknown) => {
    if (isSecure(v)) {
      secret = true;
      return `[secret ${key}.${k}]`;
    }
    return v;
  });
  return { text: replaced, secret };
}
