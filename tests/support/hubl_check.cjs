#!/usr/bin/env node
// Syntax check for HubL templates with HubSpot's own parser (bundled in
// @hubspot/prettier-plugin-hubl): formatting with parser "hubl" throws on a HubL
// syntax error, so a clean format means the file parses. Nothing is written back.
//
// Usage: node tests/support/hubl_check.cjs [file ...]   (default: every oembed_server/cms_module/*.module/module.html)
// Exit status: 0 all parse, 1 at least one parse error, 2 usage/setup problem.
"use strict";

const fs = require("fs");
const path = require("path");

let prettier;
let hublPlugin;
try {
  prettier = require("prettier");
  hublPlugin = require("@hubspot/prettier-plugin-hubl");
} catch (err) {
  console.error(`hubl_check: ${err.message}\nRun "npm ci" in the repository root first.`);
  process.exit(2);
}

function defaultFiles() {
  const root = path.join(__dirname, "..", "..", "oembed_server", "cms_module");
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((name) => name.endsWith(".module"))
    .map((name) => path.join(root, name, "module.html"))
    .filter((file) => fs.existsSync(file));
}

function check(file) {
  const source = fs.readFileSync(file, "utf8");
  try {
    prettier.format(source, { parser: "hubl", plugins: [hublPlugin], filepath: file });
    return null;
  } catch (err) {
    return String(err && err.message ? err.message : err).split("\n").slice(0, 6).join("\n");
  }
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
if (files.length === 0) {
  console.error("hubl_check: no module.html files to check");
  process.exit(2);
}

let failed = 0;
for (const file of files) {
  const problem = check(file);
  if (problem === null) {
    console.log(`ok    ${file}`);
  } else {
    failed += 1;
    console.log(`ERROR ${file}\n${problem}`);
  }
}
process.exit(failed ? 1 : 0);
