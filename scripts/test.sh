#!/usr/bin/env bash
# Every test, unit and kernel (the kernel tests need root and make their own sandbox), then one
# plain closing line "N passed, N failed" that any reader of the log can count.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build --silent || exit 1
# The tests are TypeScript too: checked against the code they test.
npx tsc -p tsconfig.test.json || exit 1
report=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || status=1
rm -f "$report"
exit $status
