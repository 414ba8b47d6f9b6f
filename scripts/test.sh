#!/usr/bin/env bash
# Every test, unit and kernel (the kernel tests need root and make their own sandbox), the
# benchmark's quick run, the full-kernel lane (tests in a VM under Debian's stock kernel, five to
# six minutes; skipped with one line where qemu or that kernel is missing), then one plain closing line
# "N passed, N failed" that any reader of the log can count.
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
# Last and alone: its VM wants both cores.
vm_report=$(mktemp)
if [ $# -eq 0 ]; then
  if why=$(bash scripts/kernel-vm/run.sh --check); then
    npx vitest run --config test/kernel-vm/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$vm_report" || status=1
  else
    echo "$why"
  fi
fi
node -e '
  const fs = require("fs");
  const runs = process.argv.slice(1).filter((f) => fs.statSync(f).size > 0).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
  const skipped = sum("numPendingTests") + sum("numTodoTests");
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" "$vm_report" || status=1
rm -f "$report" "$vm_report"
exit $status
