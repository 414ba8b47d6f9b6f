// Reads the lab's nftables table in one namespace: its chains and rules, and its owner mark.
import { DriverError } from '../errors.js';
import { labFromMark } from '../model/names.js';
import type { NftTable } from '../model/types.js';
import { isNoSuchTable, parseNftTable, tableCommentFromText } from './nft-parse.js';
import type { Runner } from './runner.js';

/**
 * `inside` wraps an argv to run in the namespace. With `owner`, a table whose JSON names no owner
 * is listed again as text, where every nft with table comments prints the comment.
 */
export async function readNftTable(inside: (argv: string[]) => string[], table: string, runner: Runner, options: { owner: boolean }): Promise<NftTable | undefined> {
  const argv = inside(['nft', '-j', 'list', 'table', 'inet', table]);
  const result = await runner.run(argv);
  if (result.exitCode !== 0 && isNoSuchTable(result.stderr)) return undefined;
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  const parsed = parseNftTable(result.stdout);
  if (!options.owner || parsed.owner !== undefined) return parsed;
  const textArgv = inside(['nft', 'list', 'table', 'inet', table]);
  const text = await runner.run(textArgv);
  if (text.exitCode !== 0 && isNoSuchTable(text.stderr)) return parsed;
  if (text.exitCode !== 0) throw new DriverError(textArgv, text.exitCode, text.stderr);
  const owner = labFromMark(tableCommentFromText(text.stdout));
  return owner ? { ...parsed, owner } : parsed;
}
