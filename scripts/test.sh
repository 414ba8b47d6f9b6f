#!/usr/bin/env bash
# Every test, unit and kernel (the kernel tests need root and make their own sandbox), the
# benchmark's quick run, then one plain closing line "N passed, N failed" that any reader of the log can count.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build --silent || exit 1
# The tests are TypeScript too: checked against the code they test.
npx tsc -p tsconfig.test.json || exit 1
report=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
# The whole suite also runs the benchmark once at 100 namespaces, so that it cannot rot. It fails
# only when a contender does not build or tear down its lab; it never fails on time.
if [ $# -eq 0 ]; then
  npm run bench --silent -- --quick --no-build || { echo "bench: the quick run failed"; status=1; }
fi
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || status=1
rm -f "$report"
exit $status
