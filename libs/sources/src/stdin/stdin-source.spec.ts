import { assertStdinIsNotTerminal, stdinSource } from './stdin-source';

describe('stdin source', () => {
  const original = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');

  afterEach(() => {
    if (original) Object.defineProperty(process.stdin, 'isTTY', original);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
  });

  it('is standard input', () => {
    expect(stdinSource()).toBe(process.stdin);
  });

  it('refuses a terminal and accepts a pipe or file', () => {
    Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true });
    expect(() => assertStdinIsNotTerminal()).toThrow('--stdin needs data on standard input (it is a terminal)');
    Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
    expect(() => assertStdinIsNotTerminal()).not.toThrow();
  });
});
