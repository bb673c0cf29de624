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
  transform: {
    "^.+\\.ts$": "<rootDir>/tools/transpile.js",
    // Two files of @pulumi/pulumi, so that the Automation API and the TypeScript compiler load only
    // when a test uses them (tools/lazyPulumi.js): each test file loads Pulumi into a fresh registry.
    "/node_modules/@pulumi/pulumi/(runtime/)?index\\.js$": "<rootDir>/tools/lazyPulumi.js",
  },
  transformIgnorePatterns: ["/node_modules/(?!@pulumi/pulumi/(runtime/)?index\\.js$)"],
  // Builds each shipped stack's plan once per state of the sources, for every test file that reads it.
  globalSetup: "<rootDir>/test/globalSetup.ts",
  // Each test file builds Pulumi resources in its own module registry; two workers fit the 2-core machine.
  maxWorkers: 2,
};
