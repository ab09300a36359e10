import { CommanderError } from 'commander';
import { IntegrityError, NotARepositoryError, UsageError, WriteOnlyKeyError } from '@coffer/repository';
import { StorageFullError } from '@coffer/storage';
import { CliError, describeFailure, oneLine, reportFailure } from './cli-error';

describe('describeFailure', () => {
  it.each([
    ['a CLI error', new CliError('no repository given')],
    ['a repository error', new NotARepositoryError('/x is not a Coffer repository')],
    ['a usage error', new UsageError('bad id')],
    ['a storage error', new StorageFullError('/repo', 'data/ab')],
    ['an integrity error', new IntegrityError('pack ab is corrupted')],
    ['a write-only key', new WriteOnlyKeyError()],
    ['a commander error', new CommanderError(1, 'commander.unknownOption', "unknown option '--x'")],
  ])('prints the message of %s as it is', (_, err) => {
    expect(describeFailure(err)).toEqual({ message: err.message, internal: false });
  });

  it('prints a failed system call as it is', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES', syscall: 'open' });
    expect(describeFailure(err)).toEqual({ message: "EACCES: permission denied, open '/x'", internal: false });
  });

  it('calls anything else an internal error', () => {
    expect(describeFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toEqual({
      message: "internal error: Cannot read properties of undefined (reading 'x')",
      internal: true,
    });
    expect(describeFailure('thrown string')).toEqual({ message: 'internal error: thrown string', internal: true });
  });
});

describe('reportFailure', () => {
  const capture = () => {
    let text = '';
    return { stream: { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream, text: () => text };
  };

  it('writes one line, without a stack', () => {
    const err = capture();
    reportFailure(new TypeError('boom'), err.stream, {});
    expect(err.text()).toBe('coffer: internal error: boom\n');
  });

  it('adds the stack when COFFER_DEBUG=1', () => {
    const err = capture();
    reportFailure(new TypeError('boom'), err.stream, { COFFER_DEBUG: '1' });
    expect(err.text()).toMatch(/^coffer: internal error: boom\nTypeError: boom\n\s+at /);
  });
});

describe('oneLine', () => {
  it('folds an indented list into one line', () => {
    expect(oneLine('bad filter patterns:\n  exclude "[": a\n  include "]": b')).toBe('bad filter patterns: exclude "[": a; include "]": b');
    expect(oneLine('plain')).toBe('plain');
  });
});
