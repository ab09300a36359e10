import fc from 'fast-check';
import { percentage, wholeNumber } from './option-parsers';

describe('percentage', () => {
  it('accepts 0 < p <= 100 with or without "%"', () => {
    expect(percentage('10')).toBe(10);
    expect(percentage('2.5%')).toBe(2.5);
    expect(percentage('100%')).toBe(100);
    expect(percentage('.5')).toBe(0.5);
  });

  it('refuses anything else with the same advice', () => {
    for (const bad of ['0', '0%', '100.1', '-5', '', '%', 'ten', '1e2', '5%%', 'NaN', 'Infinity']) {
      expect(() => percentage(bad)).toThrow('give a percentage above 0 and at most 100');
    }
  });

  it('never returns a value outside (0, 100]', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let value: number | undefined;
        try {
          value = percentage(text);
        } catch {
          return;
        }
        expect(value > 0 && value <= 100).toBe(true);
      }),
    );
  });
});

describe('wholeNumber', () => {
  it('accepts whole numbers and refuses the rest', () => {
    expect(wholeNumber('7')).toBe(7);
    expect(wholeNumber('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'x', '', '99999999999999999999']) expect(() => wholeNumber(bad)).toThrow();
  });
});
