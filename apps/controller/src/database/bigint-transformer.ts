import type { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns as numbers. pg returns them as strings because they may exceed 2^53;
 * byte and file counts of a backup stay far below that (8 PiB).
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
