import fc from 'fast-check';
import { AgentUsageError } from '../shared/agent-error';
import { parseLabels } from './labels';

describe('parseLabels', () => {
  test('reads k=v pairs separated by commas, trimming blanks', () => {
    expect(parseLabels('role=db, env=prod ,team/app=billing')).toEqual({ role: 'db', env: 'prod', 'team/app': 'billing' });
  });

  test('nothing given means no labels', () => {
    expect(parseLabels(undefined)).toEqual({});
    expect(parseLabels('')).toEqual({});
    expect(parseLabels(' , ')).toEqual({});
  });

  test('a value may be empty or contain "="', () => {
    expect(parseLabels('a=,b=x=y')).toEqual({ a: '', b: 'x=y' });
  });

  test('names every problem in one usage error', () => {
    let error: unknown;
    try {
      parseLabels('novalue,=x,-bad=1,ok=1,ok=2');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AgentUsageError);
    const message = (error as Error).message;
    expect(message).toContain('"novalue" is not key=value');
    expect(message).toContain('"=x" is not key=value');
    expect(message).toContain('label "-bad": label keys are 1-63 characters');
    expect(message).toContain('label "ok" is given twice');
  });

  test('values longer than the schema allows are refused', () => {
    expect(() => parseLabels(`a=${'v'.repeat(254)}`)).toThrow(/at most 253 characters/);
  });

  test('any well-formed label map survives formatting and parsing', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,20}[A-Za-z0-9])?$/);
    const value = fc.stringMatching(/^[A-Za-z0-9._:-]{0,30}$/);
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (labels) => {
        const text = Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        expect(parseLabels(text)).toEqual(labels);
      }),
    );
  });

  test('never throws anything but a usage error', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseLabels(text);
        } catch (err) {
          expect(err).toBeInstanceOf(AgentUsageError);
        }
      }),
    );
  });
});
