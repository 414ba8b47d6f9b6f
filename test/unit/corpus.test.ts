// Every case of the corpus of broken inputs (test/fixtures/corpus/) through loadLab: each ends with
// diagnostics that name the file, a line and column inside it (1:1 for the whole file), and
// say what is wrong in one printable line, with no stack trace. Nothing throws and nothing hangs
// (the test timeout is the bound; no case is timed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab, MAX_FILE_BYTES } from '../../src/config/load.js';
import { corpus, countByCategory, CUTS_PER_LAB, materialize, seeds, type CorpusCase } from '../fixtures/corpus/corpus.js';
import { checkLoaded } from '../helpers/diagnostics.js';

const cases = corpus();
const counts = countByCategory(cases);

describe('the corpus', () => {
  it(`has ${cases.length} cases: ${Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}`, () => {
    const labs = seeds();
    expect(labs.length).toBeGreaterThanOrEqual(8);
    expect(counts.truncated).toBeGreaterThanOrEqual(40 * labs.length);
    for (const lab of labs) expect(cases.filter((c) => c.name.startsWith(`truncated/${lab.id}@`)).length).toBeGreaterThanOrEqual(Math.min(40, CUTS_PER_LAB));
    expect(cases.length).toBeGreaterThan(1000);
    expect(cases.some((c) => (c.content?.length ?? 0) > MAX_FILE_BYTES)).toBe(true);
  });
});

describe('every corpus case ends with diagnostics', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netlab-corpus-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // One test per case, so that a failure names its case.
  cases.forEach((c: CorpusCase, index) => {
    it(c.name, async () => {
      const path = materialize(c, index, dir);
      const loaded = await loadLab(path);
      const text = c.content && c.content.length <= MAX_FILE_BYTES ? c.content.toString('utf8') : undefined;
      expect(checkLoaded(loaded, path, text).join('\n')).toBe('');
    });
  });
});
