// Small state files (run files, publish notes) written whole or not at all: a run killed while
// writing leaves the old content or the new, never half of one that the next run cannot read.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeWhole(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}
