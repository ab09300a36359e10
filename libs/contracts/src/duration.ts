/** Units accepted in durations such as "90s", "15m", "2h", "7d", "1h30m". */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

const DURATION_PATTERN = /^(?:\d+[smhdw])+$/;

/**
 * Parses a duration like "90s", "2h" or "1h30m" into seconds.
 * Returns undefined for anything else (empty, negative, unknown unit, trailing text).
 */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit];
  }
  return seconds;
}

/** Formats seconds as the largest whole units, e.g. 5400 → "1h30m"; 0 → "0s". */
export function formatDurationSeconds(totalSeconds: number): string {
  let rest = Math.round(totalSeconds);
  if (rest === 0) return '0s';
  let text = '';
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = UNIT_SECONDS[unit];
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}
