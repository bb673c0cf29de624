import type { z } from "zod";

/** The problems a settings schema finds in `input`, as `path: allowed` lines (path dotted, indexes in brackets). */
export function settingsProblems(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => {
    const path = i.path
      .map((p, n) => (typeof p === "number" ? `[${p}]` : `${n === 0 ? "" : "."}${String(p)}`))
      .join("");
    return `${path}: ${i.message}`;
  });
}
