// npm run build, last step: man pages made from docs/, so that `man netlab-apply` says what the
// page on the web says. Never checked in: every build makes them anew.
//   node scripts/build-man.mjs [OUT]    (OUT defaults to the repository's dist/man/)
//
// docs/README.md → netlab(1); a command's page → netlab-CMD(1); format.md → netlab-format(5);
// cli.md, about.md → netlab-cli(7), netlab-about(7). labs.md is pictures: it stays on the web.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import markedMan from 'marked-man';
import { Marked } from 'marked';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist', 'man');
const docs = join(root, 'docs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const SECTIONS = { README: ['netlab', '1'], format: ['netlab-format', '5'], cli: ['netlab-cli', '7'], about: ['netlab-about', '7'] };
const SKIP = new Set(['labs']);
/** netlab(1) is docs/README.md, the index, which names no summary of itself. */
const SUMMARIES = { netlab: 'declarative network labs on Linux' };

/** The man page name and section of a docs/ page. */
export function manName(page) {
  return SECTIONS[page] ?? [`netlab-${page}`, '1'];
}

/** Links between pages become man references: [plan](plan.md#x) → plan (netlab-plan(1)). */
function manLinks(markdown) {
  return markdown.replace(/\[([^\]]+)\]\(([a-z-]+|README)\.md(#[^)]*)?\)/g, (_, text, page) => {
    if (SKIP.has(page)) return text.replace(/\.md$/, ' (on the web)');
    const [name, section] = manName(page);
    return text.endsWith('.md') ? `**${name}**(${section})` : `${text} (**${name}**(${section}))`;
  });
}

/** A NAME line, as man(7) asks: "netlab-apply - <the page's first sentence>". */
function withName(name, markdown) {
  const body = markdown.replace(/^# .*\n/, '');
  if (SUMMARIES[name]) return `# ${name}\n\n## NAME\n\n${name} - ${SUMMARIES[name]}\n\n## DESCRIPTION\n${body}`;
  const summary = INDEX.get(name) ?? '';
  return `# ${name}\n\n## NAME\n\n${name} - ${summary}\n\n## DESCRIPTION\n${body}`;
}

/** docs/README.md's table says in a line what each page is: the NAME line's summary. */
const INDEX = new Map(
  [...readFileSync(join(docs, 'README.md'), 'utf8').matchAll(/^\| \[[^\]]+\]\(([a-z-]+)\.md\) \| (.+) \|$/gm)].map(([, page, text]) => [manName(page)[0], text.replace(/[`*]/g, '')]),
);

mkdirSync(out, { recursive: true });
const pages = readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).filter((p) => !SKIP.has(p)).sort();
for (const page of pages) {
  const [name, section] = manName(page);
  const marked = new Marked({ ...markedMan, breaks: false, name, section, manual: 'netlab manual', manVersion: version, date: 0 });
  const roff = marked.parse(withName(name, manLinks(readFileSync(join(docs, `${page}.md`), 'utf8'))));
  writeFileSync(join(out, `${name}.${section}`), roff);
}
