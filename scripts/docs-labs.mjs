// npm run docs:labs: writes docs/labs.md from topologies/ (built first, from dist/).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadLabsDir, renderLabsDoc } from '../dist/views/labs-doc.js';

const root = new URL('../', import.meta.url);
const labs = await loadLabsDir(fileURLToPath(new URL('topologies/', root)));
await writeFile(new URL('docs/labs.md', root), renderLabsDoc(labs));
console.log(`docs/labs.md: ${labs.length} lab(s)`);
