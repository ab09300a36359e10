import { WrongPasswordError } from '@coffer/repository';
import { StorageError } from '@coffer/storage';
import { JobAbortedError } from './job-abort';
import { describeJobError } from './job-errors';

function systemError(code: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: whatever, lstat '${path}'`), { code, path, syscall: 'lstat' });
}

describe('describeJobError', () => {
  test.each([
    ['a library error keeps its message', new WrongPasswordError('wrong password: no key of the repository at /r opens with it'), 'wrong password: no key of the repository at /r opens with it'],
    ['a storage error keeps its message', new StorageError('storage /r: object data/x is missing', true), 'storage /r: object data/x is missing'],
    ['a failed system call names its path', systemError('ENOENT', '/srv/x'), 'no such file or directory: /srv/x'],
    ['permission', systemError('EACCES', '/srv/secret'), 'permission denied: /srv/secret'],
    ['a system error without a path names the call', systemError('ENOSPC'), 'no space left on device (lstat)'],
    ['a stop names why', new JobAbortedError('timeout'), 'the job ran out of time'],
    ['a bug says so', new TypeError("Cannot read properties of undefined (reading 'x')"), "internal error in the agent: Cannot read properties of undefined (reading 'x')"],
    ['multi-line messages become one line', new Error('bad filter patterns:\n  [a\n  b]'), 'bad filter patterns: [a; b]'],
    ['not even an Error', 'just a string', 'just a string'],
  ])('%s', (_what, err, message) => {
    expect(describeJobError(err)).toBe(message);
  });
});
