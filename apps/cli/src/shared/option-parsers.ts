import { InvalidArgumentError } from 'commander';

/** For repeatable options (`--tag a --tag b`): collects every value in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A count such as `--keep-last 7`: a whole number, 0 or more. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('give a whole number (0 or more).');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('the number is too large.');
  return n;
}

/** A percentage above 0 and at most 100, with or without "%": "10", "2.5%". */
export function percentage(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(value);
  const n = match ? Number(match[1]) : NaN;
  if (!(n > 0 && n <= 100)) throw new InvalidArgumentError('give a percentage above 0 and at most 100, such as 10 or 2.5%.');
  return n;
}
