import { HookFailedError, Hooks, runHooks, withHooks } from './hooks';

const hook = (run: string, onFailure: 'fail' | 'continue' = 'fail', timeoutSeconds = 10) => ({ run, onFailure, timeoutSeconds });

describe('runHooks', () => {
  test('runs in order, logging each line of output under the hook\'s position, never its command', async () => {
    const log: string[] = [];
    await runHooks([hook('echo one; echo err >&2'), hook('echo two')], 'before', { log: (l) => log.push(l) });
    expect(log.filter((l) => !l.includes('finished in'))).toEqual(['before hook 1: one', 'before hook 1: err', 'before hook 2: two']);
    expect(log.join('\n')).not.toContain('echo');
  });

  test('a failing hook with onFailure fail stops the rest', async () => {
    const log: string[] = [];
    await expect(runHooks([hook('exit 3'), hook('echo never')], 'after', { log: (l) => log.push(l) })).rejects.toThrow(new HookFailedError('after hook 1 exited with status 3 (onFailure: fail)'));
    expect(log).not.toContain('after hook 2: never');
  });

  test('a failing hook with onFailure continue is logged and the next one runs', async () => {
    const log: string[] = [];
    await runHooks([hook('echo bad >&2; exit 2', 'continue'), hook('echo next')], 'before', { log: (l) => log.push(l) });
    expect(log).toContain('before hook 1 exited with status 2: bad; going on (onFailure: continue)');
    expect(log).toContain('before hook 2: next');
  });

  test('a hook past its timeout is killed with what it started', async () => {
    const started = Date.now();
    await expect(runHooks([hook('sleep 30 & wait', 'fail', 1)], 'before', { log: () => undefined })).rejects.toThrow('before hook 1 did not finish within 1 s and was stopped (onFailure: fail)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('withHooks', () => {
  const hooks = (before: string[], after: string[]): Hooks => ({ before: before.map((r) => hook(r)), after: after.map((r) => hook(r)) });

  test('after hooks learn the outcome, and run even when the work fails', async () => {
    const log: string[] = [];
    const context = { log: (l: string) => log.push(l) };
    await expect(withHooks(hooks([], ['echo "$COFFER_OPERATION $COFFER_STATUS"']), 'backup', context, async () => 42)).resolves.toBe(42);
    await expect(
      withHooks(hooks([], ['echo "$COFFER_OPERATION $COFFER_STATUS"']), 'restore', context, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(log.filter((l) => l.startsWith('after hook 1: '))).toEqual(['after hook 1: backup succeeded', 'after hook 1: restore failed']);
  });

  test('a failing before hook means the work does not run', async () => {
    const work = jest.fn(async () => 1);
    await expect(withHooks(hooks(['exit 1'], []), 'backup', { log: () => undefined }, work)).rejects.toBeInstanceOf(HookFailedError);
    expect(work).not.toHaveBeenCalled();
  });
});
