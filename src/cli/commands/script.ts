// netlab script FILE: the shell commands that build the lab from nothing, as apply would.
import { renderScript } from '../../views/script.js';
import { loadSpec, type VarOptions } from '../context.js';
import type { Output } from '../output.js';

export async function scriptCommand(file: string, options: VarOptions, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out, options);
  out.out(renderScript(spec, { file }));
  return 0;
}
