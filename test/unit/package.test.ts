// What netlab says of itself and ships: its version from package.json, the schema's $id, the
// completion scripts made from the command tree, the files of the package.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { versionCommand, schemaCommand } from '../../src/cli/commands/about.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string; license: string; os: string[]; files: string[] };

function captured(): { out: { out: (t: string) => void; err: (t: string) => void }; text: () => string } {
  const lines: string[] = [];
  return { out: { out: (t) => lines.push(t), err: () => undefined }, text: () => lines.join('\n') };
}

describe('netlab version and schema', () => {
  it('reads the version from package.json, also as JSON', () => {
    const text = captured();
    versionCommand({}, text.out);
    expect(text.text()).toBe(`netlab ${pkg.version}`);
    const json = captured();
    versionCommand({ json: true }, json.out);
    expect(JSON.parse(json.text())).toMatchObject({ format_version: 1, name: 'netlab', version: pkg.version });
  });

  it('prints the schema, which has an $id, and where it is installed', () => {
    const schema = captured();
    schemaCommand({}, schema.out);
    const parsed = JSON.parse(schema.text()) as { $id?: string };
    expect(parsed.$id).toMatch(/^urn:netlab:schema:topology:\d+$/);
    const id = captured();
    schemaCommand({ id: true }, id.out);
    expect(id.text()).toBe(parsed.$id);
    const path = captured();
    schemaCommand({ path: true }, path.out);
    expect(existsSync(path.text())).toBe(true);
  });
});

/** The built CLI's script: made from its command tree as it runs (npm run build first). */
const CLI = `${ROOT}dist/cli/main.js`;
const completionScript = (shell: string) => spawnSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' }).stdout;
const COMMANDS = ['validate', 'plan', 'apply', 'destroy', 'test', 'status', 'exec', 'ls', 'graph', 'script', 'export', 'version', 'schema', 'completion'];

describe('netlab completion', () => {
  it('bash: completes commands, options and choices', () => {
    const script = completionScript('bash');
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _netlab; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(complete(['netlab', 'pl'])).toBe('plan');
    expect(complete(['netlab', 'graph', '--format', ''])).toBe('mermaid dot svg');
    expect(complete(['netlab', 'destroy', '--js'])).toBe('--json');
    expect(complete(['netlab', 'plan', '--v'])).toBe('--verbose --var --version');
  });

  it('zsh and fish: every command, and shell syntax their shells accept when installed', () => {
    for (const shell of ['zsh', 'fish'] as const) {
      const script = completionScript(shell);
      for (const command of COMMANDS) expect(script, `${shell}: ${command}`).toContain(command);
      const installed = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
      if (installed) expect(spawnSync(shell, shell === 'fish' ? ['--no-execute'] : ['-n'], { input: script }).status).toBe(0);
    }
    expect(completionScript('fish')).toMatch(/complete -c netlab -n '__fish_seen_subcommand_from graph' -l format -x -a 'mermaid dot svg'/);
  });
});

describe('the package', () => {
  it('is MIT with a LICENSE, for Linux, and ships docs/, topologies/ and the changelog', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(`${ROOT}LICENSE`, 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the netlab authors/);
    expect(pkg.os).toEqual(['linux']);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'schemas', 'docs', 'topologies', 'CHANGELOG.md']));
    expect(existsSync(`${ROOT}CHANGELOG.md`)).toBe(true);
  });
});
