// netlab's benchmark: netlab against the seeds' one-ip-per-step scripts, the hand-written
// ip-batch floor and Mininet, each run in a fresh sandbox, checked to work, reported as medians.
// Usage: npm run bench -- [--runs N] [--sizes 100,1000] [--chain 200] [--tools netlab,seed,floor,mininet]
//                         [--jobs 4] [--quick] [--keep] [--no-build]
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { chain, chainWithPolicy, star, type Lab } from './labs.js';
import { LabResult, toJson, toText, writeJson } from './report.js';
import { Sandbox } from './sandbox.js';
import { writeLabFiles } from './scripts.js';
import { buildNetlab, checkMachine, ensureMininet } from './setup.js';
import { formatMs, settle } from './timing.js';
import { floor, floorQuiet, mininet, netlab, seed, type Contender } from './tools.js';
import { BenchFailure } from './verify.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = join(ROOT, 'bench/results');
const HELP = `npm run bench -- [options]   (as root)
  --runs N          measurements per contender and lab; medians are reported (default 3)
  --sizes LIST      star sizes, comma-separated (default 100,1000)
  --chain N         routers in the chain lab; 0 leaves it out (default 200)
  --tools LIST      any of netlab,seed,floor,floor-quiet,mininet (default all); floor-quiet is
                    the floor with IPv6 link-local off, as netlab makes a lab without IPv6
  --jobs N          namespaces the floor configures at once (default 4)
  --quick           for CI: star 100 only, 1 run, Mininet only if already installed
  --keep            keep the generated labs and scripts (their directory is printed)
  --no-build        do not run \`npm run build\` for netlab first`;

const log = (line: string) => process.stderr.write(`${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '100,1000' },
      chain: { type: 'string', default: '200' },
      tools: { type: 'string', default: 'netlab,seed,floor,floor-quiet,mininet' },
      jobs: { type: 'string', default: '4' },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (s: string, name: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got ${s}`);
    return n;
  };
  const tools = values.tools.split(',').map((t) => t.trim());
  const unknown = tools.filter((t) => !['netlab', 'seed', 'floor', 'floor-quiet', 'mininet'].includes(t));
  if (unknown.length) throw new Error(`--tools: unknown ${unknown.join(', ')} (netlab, seed, floor, floor-quiet, mininet)`);
  return {
    help: values.help,
    runs: values.quick ? 1 : Math.max(1, int(values.runs, 'runs')),
    sizes: values.quick ? [100] : values.sizes.split(',').map((s) => int(s, 'sizes')).filter((n) => n > 0),
    chain: values.quick ? 0 : int(values.chain, 'chain'),
    tools,
    jobs: Math.max(1, int(values.jobs, 'jobs')),
    quick: values.quick,
    keep: values.keep,
    build: !values['no-build'],
  };
}

async function versions() {
  const ip = await execa('ip', ['-V'], { reject: false });
  const mn = await execa('mn', ['--version'], { reject: false });
  return { cpus: cpus().length, kernel: (await execa('uname', ['-r'])).stdout, node: process.version, iproute2: ip.stdout.trim(), mininet: mn.exitCode === 0 ? `${mn.stdout}${mn.stderr}`.trim() : null };
}

async function main(): Promise<number> {
  const opts = options();
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  await checkMachine(log);

  const contenders: Contender[] = [];
  const setupFailures: string[] = [];
  if (opts.tools.includes('netlab')) {
    const built = await buildNetlab(ROOT, opts.build, log);
    if ('error' in built) setupFailures.push(`netlab: ${built.error}`);
    else contenders.push(netlab(built.cli));
  }
  if (opts.tools.includes('seed')) contenders.push(seed);
  if (opts.tools.includes('floor')) contenders.push(floor);
  if (opts.tools.includes('floor-quiet')) contenders.push(floorQuiet);
  if (opts.tools.includes('mininet') && opts.sizes.includes(100) && (await ensureMininet(!opts.quick, log))) contenders.push(mininet);

  const labs: Lab[] = [...opts.sizes.map(star), ...(opts.chain ? [chain(opts.chain), chainWithPolicy(opts.chain)] : [])];
  const work = mkdtempSync(join(tmpdir(), 'netlab-bench-'));
  if (work.startsWith('/run/') || work.startsWith('/etc/netns')) throw new Error(`${work}: the sandbox mounts over /run and /etc/netns; set TMPDIR elsewhere`);

  const results: LabResult[] = [];
  let busy = 0; // measurements started while something else kept the CPUs busy
  try {
    for (const lab of labs) {
      const dir = join(work, lab.id);
      mkdirSync(dir);
      const files = writeLabFiles(lab, dir, opts.jobs);
      const result = new LabResult(lab);
      results.push(result);
      const failed = new Set<string>();
      for (let run = 1; run <= opts.runs; run++) {
        // Contenders take turns within each run, so slow drift of the machine hits all alike.
        for (const c of contenders.filter((c) => c.appliesTo(lab) && !failed.has(c.name))) {
          if (!(await settle())) busy++;
          try {
            const samples = await c.measure(lab, files);
            result.add(samples);
            log(`${lab.id}  run ${run}/${opts.runs}  ${samples.map((s) => `${s.row} ${formatMs(s.ms)}`).join(' · ')}`);
          } catch (e) {
            if (!(e instanceof BenchFailure)) throw e;
            failed.add(c.name);
            result.failures.push(e.message);
            log(`\n!!! ${lab.id} run ${run}: ${c.name} FAILED; no more ${c.name} runs on this lab\n${e.message}\n`);
          }
        }
      }
    }
  } finally {
    await Sandbox.disposeAll();
    if (opts.keep) log(`generated labs and scripts kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  const text = toText(results, opts.runs);
  console.log(text);
  for (const f of setupFailures) console.log(`\nFAILED before measuring: ${f}`);
  if (busy) console.log(`\nnote: the CPUs were not idle before ${busy} measurement(s): something else was running; expect noise`);
  const date = new Date().toISOString();
  const json = toJson(results, { date, machine: await versions(), options: { ...opts, help: undefined }, busyMeasurements: busy, setupFailures });
  // latest.json for tools; a dated copy so that the next run does not erase this one.
  const dated = join(RESULTS_DIR, `${date.replaceAll(':', '-').slice(0, 19)}.json`);
  for (const path of [join(RESULTS_DIR, 'latest.json'), dated]) writeJson(path, json);
  log(`\nwritten: ${join(RESULTS_DIR, 'latest.json')} and ${dated}`);
  return setupFailures.length || results.some((r) => r.failures.length) ? 1 : 0;
}

// An interrupted bench still kills its sandboxes: their holders would otherwise keep them alive.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: killing the sandboxes`);
    void Sandbox.disposeAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    await Sandbox.disposeAll();
    log(`bench: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
