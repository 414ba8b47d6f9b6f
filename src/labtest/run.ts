// Runs a lab's tests against the kernel: ping, socat clients and `ip route get` through the
// Runner, inside the node's namespace (nsenter), and the listeners of `serve` as processes that
// live for one test; a test with `within` is tried again until it passes or its time is up.
// Every listener is stopped when its test ends, when the run is aborted (Ctrl-C), and, should
// netlab itself die, by the kernel: it runs with a parent-death signal (setpriv --pdeathsig).
// No shell anywhere: argv arrays, built from validated addresses and ports and netlab's own token.
// A listener is a socat echo (PIPE: no program runs for a connection); the client sends a random
// token and must read it back, so a reply proves the traffic went there and back.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { inNamespace, type RunResult, type Runner } from '../kernel/runner.js';
import { classifyConnect, classifyPing, passes, type Outcome } from './outcome.js';
import { classifyMeasuredPing } from './ping-measure.js';
import type { TestResult } from './render.js';
import { testPhases, type ConnectCheck, type LabTest, type Listener, type PingCheck, type RouteCheck, type TraceCheck } from './resolve.js';
import { classifyRouteGet } from './route-outcome.js';
import { tryWithin } from './retry.js';
import { classifyTrace, parseHop, traceContinues, type Hop } from './trace-outcome.js';
import { classifyThroughput, iperfClientArgv, iperfServerArgv, notListeningYet, type ThroughputCheck } from './throughput.js';

/** A process that runs until stopped: a test's listener. */
export interface StartedProcess {
  /** Called with each chunk the process writes to stderr. */
  onStderr(listener: (text: string) => void): void;
  /** Settles when the process has exited, with what it said. */
  exited: Promise<RunResult>;
  kill(signal?: NodeJS.Signals): void;
}

export interface ProcessStarter {
  start(argv: readonly string[]): StartedProcess;
}

export function processStarter(): ProcessStarter {
  return {
    start(argv) {
      const [file, ...args] = argv;
      const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const listeners: Array<(text: string) => void> = [];
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        // socat -d -d logs every connection: keep the tail, which holds the error if there is one.
        stderr = (stderr + text).slice(-8192);
        for (const l of listeners) l(text);
      });
      const exited = new Promise<RunResult>((resolve) => {
        child.once('error', (error) => resolve({ exitCode: 127, stdout: '', stderr: `${stderr}${error.message}` }));
        // 'exit', not only 'close': a connection's child may hold stderr open a little longer.
        // The short wait lets the last words (the reason it failed to start) arrive.
        child.once('exit', (code, signal) => {
          const done = () => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout: '', stderr });
          const timer = setTimeout(done, 200);
          child.once('close', () => {
            clearTimeout(timer);
            done();
          });
        });
      });
      return {
        onStderr: (l) => listeners.push(l),
        exited,
        kill: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
      };
    },
  };
}

export interface LabTestDeps {
  runner: Runner;
  starter: ProcessStarter;
  /** Tests at once. */
  concurrency: number;
  /** Per test: ping's deadline, the connect timeout, how long a UDP answer is waited for. */
  timeoutSeconds: number;
  /** Aborted on Ctrl-C: no new test starts, every listener is stopped. */
  signal?: AbortSignal;
  /** Called with each command before it runs (netlab test -v). */
  log?: (netns: string | null, argv: readonly string[]) => void;
  /** What clients send and listeners echo; random per run, so that no stale answer can pass. */
  token?: string;
}

export function newToken(): string {
  return `netlab-test-${randomBytes(4).toString('hex')}`;
}

/** How long a listener may take to bind before its test fails. */
const LISTENER_START_MS = 3000;
/** How long a stopped listener may take to exit before it is killed. */
const LISTENER_STOP_MS = 1000;
/**
 * A connect is tried again this often until the deadline. Packets sent before a veth's carrier is
 * up (or, for IPv6, before its link-local address is) are lost: a lost datagram is silence, and
 * TCP would wait 3 s for its own second SYN retransmission.
 */
const RETRY_SECONDS = 1;

function hostPort(address: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The kernel kills a probe or listener whose netlab died without stopping it. */
const ORPHAN_GUARD = ['setpriv', '--pdeathsig', 'KILL'];

/** The echoes of a `count` are sent this often (seconds; below 0.2 needs root, which netlab has). */
const COUNT_INTERVAL = '0.1';

/**
 * df: true forbids fragmenting (-M do). A size without df allows it (-M dont): by default ping
 * sets DF too ("want"), so its one echo would end at the first router's "fragmentation needed".
 */
function fragmentArgv(check: PingCheck): string[] {
  if (check.df === true) return ['-M', 'do'];
  return check.df === false || check.size !== undefined ? ['-M', 'dont'] : [];
}

export function pingArgv(check: PingCheck, timeoutSeconds: number): string[] {
  // One echo: -w keeps sending once a second until the deadline, as an echo may be lost while a
  // veth's carrier comes up. A count: every echo is sent once and counted; -W bounds the wait.
  const echoes = check.count === undefined ? ['-c', '1', '-w', String(timeoutSeconds)] : ['-c', String(check.count), '-i', COUNT_INTERVAL, '-W', String(timeoutSeconds)];
  const packet = [...(check.size !== undefined ? ['-s', String(check.size)] : []), ...fragmentArgv(check)];
  return [...ORPHAN_GUARD, 'ping', '-n', `-${check.family}`, ...echoes, ...packet, check.address];
}

/** One probe of a trace: a single echo whose TTL (IPv6: hop limit) runs out after `ttl` routers. */
export function traceProbeArgv(check: TraceCheck, ttl: number, waitSeconds: number): string[] {
  return [...ORPHAN_GUARD, 'ping', '-n', `-${check.family}`, '-c', '1', '-W', String(waitSeconds), '-t', String(ttl), check.address];
}

/**
 * A trace's probe waits at most this long for its answer; a silent hop is asked once more, a
 * pause later. A router sends ICMP errors to one address about once a second after a burst, and
 * an unreachable costs it two of those: two seconds apart, the second probe is answered.
 */
const TRACE_WAIT_SECONDS = 1;
const TRACE_TRIES = 2;
const TRACE_PAUSE_MS = 1000;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

/** `ip -j route get`: what the kernel would choose for a packet to the address. */
export function routeGetArgv(check: RouteCheck): string[] {
  const lookup = [...(check.source !== undefined ? ['from', check.source] : []), ...(check.mark !== undefined ? ['mark', String(check.mark)] : [])];
  return [...ORPHAN_GUARD, 'ip', '-j', `-${check.family}`, 'route', 'get', check.address, ...lookup];
}

export function listenerArgv(check: ConnectCheck, listener: Listener, timeoutSeconds: number): string[] {
  // fork: one child per connection (per datagram for UDP), which reads what came and echoes it.
  // reuseaddr for TCP only: it lets a port in TIME_WAIT be bound again; for UDP it would let the
  // listener share a port that something else holds, instead of saying so.
  const options = check.proto === 'tcp' ? 'reuseaddr,fork' : 'fork';
  const address = `${check.proto.toUpperCase()}${check.family}-${check.proto === 'tcp' ? 'LISTEN' : 'RECVFROM'}:${listener.port},${options}`;
  return [
    ...ORPHAN_GUARD,
    'socat',
    // -d -d: socat says "listening on" / "receiving on" once bound, which is when the test may connect.
    '-d',
    '-d',
    // -T: a connection's child ends after this long without traffic.
    '-T',
    String(timeoutSeconds),
    address,
    // PIPE: what is read is written back. No program, no shell.
    'PIPE',
  ];
}

/** The client: sends stdin (the token, or nothing for a TCP test without a listener), prints what comes back. */
export function clientArgv(check: ConnectCheck, reply: string | undefined, waitSeconds: number): string[] {
  const target = `${check.proto.toUpperCase()}${check.family}:${hostPort(check.address, check.family, check.port)}`;
  const options: string[] = [];
  if (check.proto === 'tcp') options.push(`connect-timeout=${waitSeconds}`);
  // readbytes: stop as soon as the whole reply is read, rather than wait for the timeout.
  if (reply !== undefined) options.push(`readbytes=${Buffer.byteLength(reply)}`);
  else if (check.proto === 'udp') options.push('readbytes=1');
  const linger = reply === undefined && check.proto === 'tcp' ? '0.5' : String(waitSeconds);
  return [...ORPHAN_GUARD, 'socat', '-T', String(waitSeconds), '-t', linger, '-', [target, ...options].join(',')];
}

interface Running {
  deps: LabTestDeps;
  token: string;
  live: Set<StartedProcess>;
}

async function run(running: Running, netns: string | null, argv: string[], input?: string): Promise<RunResult> {
  const full = inNamespace(netns, argv);
  running.deps.log?.(netns, full);
  return running.deps.runner.run(full, input);
}

async function ping(running: Running, test: LabTest, check: PingCheck): Promise<Outcome> {
  const seconds = running.deps.timeoutSeconds;
  const result = await run(running, test.fromNetns, pingArgv(check, seconds));
  const measured = check.count !== undefined || check.loss !== undefined || check.rtt !== undefined;
  return measured ? classifyMeasuredPing(result, check, seconds) : classifyPing(result, seconds);
}

async function routeGet(running: Running, test: LabTest, check: RouteCheck): Promise<Outcome> {
  return classifyRouteGet(await run(running, test.fromNetns, routeGetArgv(check)), check);
}

/** TTL 1, 2, ... one after another, until the target answers, a router says it cannot, or maxHops. */
async function trace(running: Running, test: LabTest, check: TraceCheck): Promise<Outcome> {
  const wait = Math.min(TRACE_WAIT_SECONDS, running.deps.timeoutSeconds);
  const hops: Hop[] = [];
  for (let ttl = 1; ttl <= check.maxHops && !running.deps.signal?.aborted; ttl++) {
    let hop: Hop = { kind: 'silent' };
    for (let attempt = 0; attempt < TRACE_TRIES && hop.kind === 'silent' && !running.deps.signal?.aborted; attempt++) {
      if (attempt > 0) await pause(TRACE_PAUSE_MS, running.deps.signal);
      hop = parseHop(await run(running, test.fromNetns, traceProbeArgv(check, ttl, wait)));
    }
    hops.push(hop);
    if (!traceContinues(hop)) break;
  }
  return classifyTrace(hops, check);
}

function lastError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const error = [...lines].reverse().find((l) => / E /.test(l)) ?? lines.pop() ?? 'no message';
  return error.replace(/^\S+ \S+ socat\[\d+\] E /, '').trim();
}

/** Starts a listener and waits until it is bound; a string says why it did not start. */
async function startListener(running: Running, check: ConnectCheck, listener: Listener): Promise<StartedProcess | string> {
  const argv = inNamespace(listener.netns, listenerArgv(check, listener, running.deps.timeoutSeconds));
  running.deps.log?.(listener.netns, argv);
  const proc = running.deps.starter.start(argv);
  running.live.add(proc);
  let said = '';
  const bound = new Promise<true>((resolve) => {
    proc.onStderr((text) => {
      said += text;
      if (/ (listening|receiving) on /.test(said)) resolve(true);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`did not start within ${LISTENER_START_MS / 1000} s`), LISTENER_START_MS);
  });
  const died = proc.exited.then((r) => `exited (${r.exitCode}): ${lastError(r.stderr)}`);
  const outcome = await Promise.race([bound, died, late]);
  clearTimeout(timer);
  if (outcome === true) return proc;
  await stopListener(running, proc);
  return outcome;
}

async function stopListener(running: Running, proc: StartedProcess): Promise<void> {
  proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    proc.exited.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), LISTENER_STOP_MS))),
  ]);
  clearTimeout(timer);
  if (!stopped) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
  running.live.delete(proc);
}

async function connect(running: Running, test: LabTest, check: ConnectCheck): Promise<Outcome> {
  const seconds = running.deps.timeoutSeconds;
  let listener: StartedProcess | undefined;
  if (check.serve) {
    const started = await startListener(running, check, check.serve);
    if (typeof started === 'string') {
      return { got: 'error', why: `listener on ${check.serve.node}:${check.serve.port}/${check.proto} ${started}` };
    }
    listener = started;
  }
  try {
    const message = `${running.token}\n`;
    const reply = check.serve ? message : undefined;
    const probe = { proto: check.proto, reply, timeoutSeconds: seconds };
    // Without a listener a TCP test sends nothing: it only connects.
    const input = check.proto === 'tcp' && !check.serve ? '' : message;
    const deadline = performance.now() + seconds * 1000;
    // Bounded too by a count, should a client ever come back at once without an answer.
    for (let attempt = 1; ; attempt++) {
      const left = (deadline - performance.now()) / 1000;
      const wait = Math.max(0.1, Math.min(RETRY_SECONDS, left));
      const outcome = classifyConnect(await run(running, test.fromNetns, clientArgv(check, reply, Number(wait.toFixed(2))), input), probe);
      // Refused or unreachable is an answer; only silence is worth another try.
      const silent = outcome.got === 'fail' && /^(timed out|no answer)/.test(outcome.why);
      const last = performance.now() >= deadline - 50 || attempt > seconds / RETRY_SECONDS + 1;
      if (!silent || last || running.deps.signal?.aborted) return outcome;
    }
  } finally {
    if (listener) await stopListener(running, listener);
  }
}

/** How often the client asks again while the server starts (iperf3 says nothing when it listens). */
const SERVER_START_POLL_MS = 100;

/** The iperf3 server runs for this test only; the client is tried again until it listens. */
async function throughput(running: Running, test: LabTest, check: ThroughputCheck): Promise<Outcome> {
  const argv = inNamespace(check.server.netns, iperfServerArgv(check.server.port));
  running.deps.log?.(check.server.netns, argv);
  const server = running.deps.starter.start(argv);
  running.live.add(server);
  let exited: RunResult | undefined;
  void server.exited.then((r) => (exited = r));
  try {
    const deadline = performance.now() + LISTENER_START_MS;
    for (;;) {
      const result = await run(running, test.fromNetns, iperfClientArgv(check, running.deps.timeoutSeconds));
      if (!notListeningYet(result) || performance.now() > deadline || exited || running.deps.signal?.aborted) {
        if (exited && notListeningYet(result)) return { got: 'error', why: `iperf3 server on ${check.server.node}:${check.server.port} exited (${exited.exitCode}): ${lastError(exited.stderr)}` };
        return classifyThroughput(result, check);
      }
      await new Promise((resolve) => setTimeout(resolve, SERVER_START_POLL_MS));
    }
  } finally {
    await stopListener(running, server);
  }
}

function probe(running: Running, test: LabTest): Promise<Outcome> {
  const check = test.check;
  if (check.kind === 'ping') return ping(running, test, check);
  if (check.kind === 'route') return routeGet(running, test, check);
  if (check.kind === 'trace') return trace(running, test, check);
  if (check.kind === 'throughput') return throughput(running, test, check);
  return connect(running, test, check);
}

async function runOne(running: Running, test: LabTest): Promise<TestResult> {
  const started = performance.now();
  const tried = await tryWithin(() => probe(running, test), (o) => passes(test.expect, o), test.withinSeconds, { signal: running.deps.signal });
  // Stopped part way, a probe's "no answer" says nothing about the lab.
  const outcome: Outcome = running.deps.signal?.aborted ? { got: 'error', why: 'interrupted' } : tried.outcome;
  return { test, outcome, seconds: (performance.now() - started) / 1000, ...(test.withinSeconds !== undefined ? { tries: tried.tries } : {}) };
}

export interface RunTestsResult {
  /** In file order; only the tests that ran. */
  results: TestResult[];
  interrupted: boolean;
}

/** Runs every test, independent ones at once; tests that share a listener's port one after another, throughput tests last. */
export async function runTests(tests: readonly LabTest[], deps: LabTestDeps): Promise<RunTestsResult> {
  const running: Running = { deps, token: deps.token ?? newToken(), live: new Set() };
  const stopAll = () => {
    for (const proc of running.live) proc.kill('SIGTERM');
  };
  deps.signal?.addEventListener('abort', stopAll);
  const limit = pLimit(deps.concurrency);
  const results: TestResult[] = [];
  try {
    for (const phase of testPhases(tests)) {
      await Promise.all(
        phase.map((group) =>
          limit(async () => {
            for (const test of group) {
              if (deps.signal?.aborted) return;
              results.push(await runOne(running, test));
            }
          }),
        ),
      );
    }
  } finally {
    deps.signal?.removeEventListener('abort', stopAll);
    // Whatever happened above, no listener outlives the run.
    await Promise.all([...running.live].map((proc) => stopListener(running, proc)));
  }
  results.sort((a, b) => a.test.number - b.test.number);
  return { results, interrupted: deps.signal?.aborted ?? false };
}
