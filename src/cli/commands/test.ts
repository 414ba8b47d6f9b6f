// netlab test FILE: runs the lab's tests: inside the applied lab, as root.
import { loadLab } from '../../config/load.js';
import { formatDiagnostic, hasErrors } from '../../diagnostics.js';
import { planLab } from '../../engine.js';
import { ConfigError, UserError } from '../../errors.js';
import { driftWarning, notAppliedReason } from '../../labtest/applied.js';
import { allPassed, renderFailures, renderTable, runToJson, type TestRun } from '../../labtest/render.js';
import { EXIT_INTERRUPTED } from '../report.js';
import { resolveTests } from '../../labtest/resolve.js';
import { processStarter, runTests } from '../../labtest/run.js';
import { engineDeps, loadOptions, requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

export interface TestOptions extends CommonOptions {
  json?: boolean;
  output?: string;
  timeout?: string;
}

/**
 * Seconds per test: enough for a lost first packet and its retry (ping sends once a second), and
 * for a connect that waits on a slow listener.
 */
export const DEFAULT_TEST_TIMEOUT = 3;
const MAX_TEST_TIMEOUT = 60;

function timeoutOf(options: TestOptions): number {
  const text = options.timeout ?? String(DEFAULT_TEST_TIMEOUT);
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1 || seconds > MAX_TEST_TIMEOUT) {
    throw new UserError(`--timeout takes whole seconds from 1 to ${MAX_TEST_TIMEOUT}, got ${JSON.stringify(text)}`);
  }
  return seconds;
}


export async function testCommand(file: string, options: TestOptions, out: Output): Promise<number> {
  // loadLab rather than loadSpec: the tests' lines come from the loader's locator.
  const loaded = await loadLab(file, loadOptions(options));
  if (hasErrors(loaded.diagnostics) || !loaded.spec) throw new ConfigError(loaded.diagnostics);
  for (const d of loaded.diagnostics) out.err(formatDiagnostic(d));
  const spec = loaded.spec;
  const format = outputFormat(options);
  const timeoutSeconds = timeoutOf(options);
  const tests = resolveTests(spec, loaded.locate);
  requireRoot();

  const deps = engineDeps(options, out);
  const { desired, actual, plan, record } = await planLab(spec, deps);
  const missing = notAppliedReason(spec, desired, actual, record !== undefined, plan.conflicts);
  if (missing) throw new UserError(`lab ${spec.name} is not applied — run netlab apply ${file} first (${missing})`);
  const drift = driftWarning(spec.name, file, plan);
  if (drift) out.err(drift);

  if (tests.length === 0) {
    if (format !== 'text') printDocument(out, format, runToJson({ lab: spec.name, file, results: [], seconds: 0, drift: plan.changes.length }));
    else out.out(`Lab ${spec.name} has no tests: add a tests: section to ${file} (see docs/test.md).`);
    return 0;
  }

  // Ctrl-C: no new test starts, every listener is stopped, the tests that ran are reported.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  // on, not once: execa's exit hook re-raises a signal when it sees no other listener, and a
  // once-listener is gone by the time it looks.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  let outcome;
  try {
    outcome = await runTests(tests, {
      runner: deps.runner,
      starter: processStarter(),
      concurrency: deps.concurrency,
      timeoutSeconds,
      signal: abort.signal,
      log: options.verbose ? (netns, argv) => out.err(`  [${netns ?? 'root'}] ${argv.join(' ')}`) : undefined,
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const run: TestRun = {
    lab: spec.name,
    file,
    results: outcome.results,
    seconds: (performance.now() - started) / 1000,
    drift: plan.changes.length,
    interrupted: outcome.interrupted,
  };
  if (format !== 'text') {
    printDocument(out, format, runToJson(run));
  } else {
    out.out(renderTable(run));
    for (const line of renderFailures(run)) out.err(line);
  }
  if (outcome.interrupted) return EXIT_INTERRUPTED;
  return allPassed(run) ? 0 : 1;
}
