import { resolveLinks } from '../../model/resolve.js';
import { loadSpec } from '../context.js';
import type { Output } from '../output.js';

export async function validateCommand(file: string, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out);
  const nodes = Object.keys(spec.nodes).length;
  out.out(`${file}: lab ${spec.name} is valid (${nodes} node(s), ${resolveLinks(spec).length} link(s)).`);
  return 0;
}
