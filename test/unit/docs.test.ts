// docs/ keeps in step with the code: every property of the schema is described in format.md,
// every command has its page, and labs.md is what `npm run docs:labs` makes from topologies/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadLabsDir, renderLabsDoc } from '../../src/views/labs-doc.js';
import { TOPOLOGIES } from '../helpers/sandbox.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SCHEMA = fileURLToPath(new URL('../../schemas/topology.schema.json', import.meta.url));

/** Every name under any `properties` of the schema, wherever it is nested. */
function schemaProperties(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => schemaProperties(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && value && typeof value === 'object') for (const name of Object.keys(value)) found.add(name);
      schemaProperties(value, found);
    }
  }
  return found;
}

describe('docs/format.md', () => {
  const format = readFileSync(`${DOCS}format.md`, 'utf8');
  const properties = [...schemaProperties(JSON.parse(readFileSync(SCHEMA, 'utf8')))].sort();

  it('finds the properties of the schema', () => {
    expect(properties).toEqual(expect.arrayContaining(['name', 'nodes', 'links', 'addresses', 'via', 'nameservers', 'policy', 'expect']));
  });

  it('describes every property of the schema, as `name` or name:', () => {
    const missing = properties.filter((p) => !format.includes(`\`${p}\``) && !new RegExp(`(^|[\\s{,])${p}:`, 'm').test(format));
    expect(missing, `add these to docs/format.md: ${missing.join(', ')}`).toEqual([]);
  });
});

describe('docs/', () => {
  it('has a page for every command', () => {
    const pages = ['validate', 'plan', 'apply', 'destroy', 'ls', 'graph', 'script', 'export', 'trace', 'capture', 'cli', 'about'].map((c) => `${c}.md`);
    expect(pages.filter((p) => !existsSync(`${DOCS}${p}`))).toEqual([]);
  });

  it('labs.md is up to date with topologies/ (run `npm run docs:labs`)', async () => {
    const expected = renderLabsDoc(await loadLabsDir(TOPOLOGIES));
    const actual = readFileSync(`${DOCS}labs.md`, 'utf8');
    expect(actual === expected, 'docs/labs.md is out of date: run `npm run docs:labs` and commit it').toBe(true);
  });

  it('labs.md shows a Mermaid picture of every lab', async () => {
    const labs = await loadLabsDir(TOPOLOGIES);
    const page = readFileSync(`${DOCS}labs.md`, 'utf8');
    expect(page.match(/^```mermaid$/gm)).toHaveLength(labs.length);
    for (const { file, spec } of labs) {
      expect(page).toContain(`## ${spec.name}\n`);
      expect(page).toContain(`topologies/${file}`);
    }
  });
});
