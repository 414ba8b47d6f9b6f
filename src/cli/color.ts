// Whether to colour the output, as https://no-color.org and FORCE_COLOR say: chalk 5 reads
// FORCE_COLOR and --no-color only partly and NO_COLOR not at all, so netlab decides and sets its level.

export interface ColorContext {
  env: Readonly<Record<string, string | undefined>>;
  /** false when --no-color was given. */
  color: boolean;
  isTTY: boolean;
  /** What chalk found the terminal can show (256 colours, true colour). */
  detected: 0 | 1 | 2 | 3;
}

/** chalk's levels: 0 none, 1 16 colours, 2 256, 3 true colour. */
export function colorLevel({ env, color, isTTY, detected }: ColorContext): 0 | 1 | 2 | 3 {
  if (!color) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    // FORCE_COLOR=0 or false turns colour off; 1, 2, 3 choose the level; empty or true is 1.
    if (force === '0' || force === 'false') return 0;
    if (force === '2' || force === '3') return Number(force) as 2 | 3;
    return 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!isTTY || env.TERM === 'dumb') return 0;
  return detected === 0 ? 1 : detected;
}
