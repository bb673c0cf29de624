/**
 * Jest transpiles TypeScript with esbuild (tools/transpile.js) and does not type-check: `npm run typecheck` (tsc) does that,
 * once, as part of `npm test`. Type-checking inside jest with @pulumi/aws costs several times more.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/policy", "<rootDir>/jobs/backup"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  transform: { "^.+\\.ts$": "<rootDir>/tools/transpile.js" },
  // Each test file builds Pulumi resources in its own module registry; two workers fit the 2-core machine.
  maxWorkers: 2,
};
