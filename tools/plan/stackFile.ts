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

/** Stack names that have a `Pulumi.<stack>.yaml` in `root`. */
export function listStacks(root: string): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function readStackFile(root: string, stack: string): StackFile {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name: use letters, digits, '-', '_' or '.'`);
  const projectFile = path.join(root, "Pulumi.yaml");
  const project = (parse(fs.readFileSync(projectFile, "utf8")) as { name?: unknown })?.name;
  if (typeof project !== "string") throw new Error(`${projectFile} has no project name`);

  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`no stack "${stack}": ${file} does not exist. Stacks here: ${listStacks(root).join(", ") || "none"}`);
  }
  const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    const { text, secret } = toConfigString(key, value);
    config[key] = text;
    if (secret) secretKeys.push(key);
  }
  return { project, stack, config, secretKeys };
}

function isSecure(value: unknown): value is { secure: string } {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

function toConfigString(key: string, value: unknown): { text: string; secret: boolean } {
  if (isSecure(value)) return { text: `[secret ${key}]`, secret: true };
  if (typeof value === "string") return { text: value, secret: false };
  let secret = false;
  // Secure values nested in an object are decrypted by the CLI; offline they become placeholders.
  const replaced = JSON.stringify(value, (k, v) => {
    if (isSecure(v)) {
      secret = true;
      return `[secret ${key}.${k}]`;
    }
    return v;
  });
  return { text: replaced, secret };
}
