/**
 * How config problems read: kept in `lib/configErrors.ts` so the CI bootstrap program
 * (`bootstrap/`) reports its config exactly as this program does.
 */
export * from "../lib/configErrors";
