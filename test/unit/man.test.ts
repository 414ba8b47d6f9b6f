// The man pages made from docs/ at build time: one per command page, each with the NAME line
// man(1) and apropos(1) read, and links between pages turned into man references.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMANDS = ['validate', 'plan', 'apply', 'destroy', 'test', 'status', 'exec', 'ls', 'graph', 'script', 'export', 'trace', 'capture'];

function build(): string {
  const out = mkdtempSync(join(tmpdir(), 'netlab-man-'));
  const r = spawnSync(process.execPath, [`${ROOT}scripts/build-man.mjs`, out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return out;
}

describe('man pages', () => {
  const dir = build();

  it('has netlab(1), a page per command, and the format in section 5', () => {
    const pages = readdirSync(dir);
    expect(pages).toContain('netlab.1');
    expect(pages).toContain('netlab-format.5');
    for (const command of COMMANDS) expect(pages, command).toContain(`netlab-${command}.1`);
  });

  it('gives each page a title and a NAME line with a summary, and man references for links', () => {
    for (const page of readdirSync(dir)) {
      const roff = readFileSync(join(dir, page), 'utf8');
      const name = page.replace(/\.\d$/, '');
      expect(roff.startsWith(`.TH "${name.toUpperCase().replace(/-/g, '\\-')}"`), page).toBe(true);
      expect(roff, page).toMatch(new RegExp(`^\\.SH "?NAME"?\\n(\\.P\\n)?${name.replace(/-/g, '\\\\-')} \\\\- \\w`, 'm'));
      expect(roff, page).not.toMatch(/\.md\b/);
    }
  });
});
