// A sample of the corpus of broken inputs (test/fixtures/corpus/) through the real CLI, inside a
// sandbox: `netlab validate FILE` and `netlab apply FILE` exit 65 with `file:line:col: error:`
// lines (or `file: error:` for a problem of the whole file), print no internal error or stack
// trace, and leave the kernel as it was. A case that is still a valid lab applies (exit 0) and is
// destroyed to nothing. Plus the one unreadable file that needs the CLI: chmod 000 for a root
// that has lost CAP_DAC_OVERRIDE.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../src/config/load.js';
import { corpus, materialize, type CorpusCase } from '../fixtures/corpus/corpus.js';
import { CLI, Sandbox, type Result } from '../helpers/sandbox.js';

export const SAMPLE_SIZE = 30;

/** Always in the sample: the cases that only a real process and file system can show. */
const ALWAYS = [
  'file/fifo',
  'file/symlink-to-fifo',
  'file/directory',
  'file/write-only-proc',
  'file/huge',
  'file/empty',
  'encoding/latin1-node-name',
  'encoding/utf16le-bom',
  'size/deep-flow-seq-10k',
  'size/nesting-over-limit-65',
  'handwritten/billion-laughs.yaml',
  'handwritten/shell-names.yaml',
  'handwritten/unicode-names.yaml',
  'yaml/tag-omap-interfaces',
  'yaml/escape-sequence-in-name',
  // Still valid: applied, then destroyed to nothing.
  'yaml/crlf-line-ends',
  'file/chmod-000',
];

/** ALWAYS, then every k-th other case of the corpus: the same sample for the same corpus. */
function sample(cases: CorpusCase[]): Array<{ c: CorpusCase; index: number }> {
  const indexed = cases.map((c, index) => ({ c, index }));
  const chosen = indexed.filter(({ c }) => ALWAYS.includes(c.name));
  const rest = indexed.filter(({ c }) => !ALWAYS.includes(c.name));
  const wanted = SAMPLE_SIZE - chosen.length;
  const stride = rest.length / wanted;
  for (let i = 0; i < wanted; i++) chosen.push(rest[Math.floor(i * stride + stride / 2)]!);
  return chosen.sort((a, b) => a.index - b.index);
}

const cases = corpus();
const chosen = sample(cases);

let sb: Sandbox;
const scratch = mkdtempSync(join(tmpdir(), 'netlab-corpus-cli-'));

beforeAll(async () => {
  sb = await Sandbox.create();
});
afterAll(async () => {
  await sb?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  await sb.reset();
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Exit 65, every error line in the diagnostic format, nothing internal, nothing unprintable. */
function expectRefused(r: Result, path: string, what: string): void {
  const context = `${what} exited ${r.exitCode}\n--- stdout\n${r.stdout.slice(0, 2000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`;
  expect(r.exitCode, context).toBe(65);
  const errorLine = new RegExp(`^${escapeRegExp(path)}(:\\d+:\\d+)?: error: \\S`, 'm');
  expect(r.stderr, context).toMatch(errorLine);
  expect(r.stderr, context).toMatch(/^\d+ error\(s\); nothing was changed\.$/m);
  expect(`${r.stdout}${r.stderr}`, context).not.toMatch(/internal error|^\s+at |RangeError|TypeError/m);
  // A terminal escape, a bidi override or a NUL from the file would reach the user's terminal.
  expect(r.stderr, context).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u);
  for (const line of r.stderr.trimEnd().split('\n')) {
    expect(line.startsWith(path) || /^\d+ error\(s\)/.test(line), `an unexpected line: ${line.slice(0, 300)}`).toBe(true);
  }
}

describe(`the CLI on ${SAMPLE_SIZE} corpus cases (of ${cases.length})`, () => {
  it('samples the same cases for the same corpus', () => {
    expect(chosen).toHaveLength(SAMPLE_SIZE);
    expect(new Set(chosen.map(({ c }) => c.name)).size).toBe(SAMPLE_SIZE);
    expect(chosen.filter(({ c }) => ALWAYS.includes(c.name))).toHaveLength(ALWAYS.length);
  });

  for (const { c, index } of chosen) {
    it(c.name, async () => {
      const path = materialize(c, index, scratch);
      const loaded = await loadLab(path);
      const validated = await sb.run([process.execPath, CLI, 'validate', path], { timeout: 30_000 });
      if (loaded.spec) {
        // Still a valid lab: it applies, and destroy takes it all away again.
        expect(validated.exitCode, validated.stderr).toBe(0);
        const applied = await sb.run([process.execPath, CLI, 'apply', path], { timeout: 60_000 });
        expect(applied.exitCode, `${applied.stdout}\n${applied.stderr}`).toBe(0);
        const destroyed = await sb.netlab('destroy', loaded.spec.name);
        expect(destroyed.exitCode, destroyed.stderr).toBe(0);
      } else {
        expectRefused(validated, path, 'validate');
        const applied = await sb.run([process.execPath, CLI, 'apply', path], { timeout: 30_000 });
        expectRefused(applied, path, 'apply');
      }
      expect(await sb.leftovers()).toEqual([]);
    });
  }
});

describe('a file that root cannot read', () => {
  // Root reads a chmod 000 file through CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH); without them
  // it is refused like for anyone else.
  const withoutDacOverride = ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'];

  it('is refused with exit 65 and "permission denied", by validate and apply, touching nothing', async () => {
    const path = join(scratch, 'unreadable.yaml');
    writeFileSync(path, 'name: unreadable\nnodes: {a: {}}\n');
    chmodSync(path, 0o000);
    for (const command of ['validate', 'apply']) {
      const r = await sb.run([...withoutDacOverride, process.execPath, CLI, command, path], { timeout: 30_000 });
      expectRefused(r, path, command);
      expect(r.stderr).toContain(`${path}: error: cannot be read: permission denied`);
    }
    expect(await sb.leftovers()).toEqual([]);
  });
});
