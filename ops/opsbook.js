#!/usr/bin/env node
// The `opsbook` bin: runs the TypeScript sources through the project's transpiler (tools/register.js).
require("../tools/register.js");
require("./main.ts");
