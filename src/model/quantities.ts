// Durations and percentages as a lab file writes them ("10s", "150ms", "5%"). Pure.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const SECONDS_PER: Record<string, number> = { ms: 0.001, s: 1, m: 60 };

/** "10s" → 10, "150ms" → 0.15, "1m" → 60; undefined when it is no duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  return match ? Number(match[1]) * SECONDS_PER[match[2]!]! : undefined;
}

/** "150ms" → 150, "1s" → 1000: a duration in milliseconds. */
export function parseMilliseconds(text: string): number | undefined {
  const seconds = parseDuration(text);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** "5%" → 5, "0.5%" → 0.5; undefined when it is no percentage (range is the caller's to judge). */
export function parsePercent(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}

/** Milliseconds as people read them: "0.057 ms", "102 ms". */
export function formatMs(ms: number): string {
  return `${ms >= 100 ? Math.round(ms) : Number(ms.toPrecision(3))} ms`;
}

/** A percentage as people read it: "4%", "2.5%", "33.3%". */
export function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(1))}%`;
}
