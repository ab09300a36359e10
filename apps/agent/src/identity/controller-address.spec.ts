import fc from 'fast-check';
import { AgentUsageError } from '../shared/agent-error';
import { parseControllerAddress } from './controller-address';

describe('parseControllerAddress', () => {
  test.each([
    ['controller.example.com:7443', 'controller.example.com', 7443, 'controller.example.com:7443'],
    ['127.0.0.1:1', '127.0.0.1', 1, '127.0.0.1:1'],
    ['[::1]:7443', '::1', 7443, '[::1]:7443'],
    [' localhost:65535 ', 'localhost', 65535, 'localhost:65535'],
  ])('%s', (text, host, port, target) => {
    expect(parseControllerAddress(text)).toEqual({ host, port, target });
  });

  test.each(['controller', 'controller:', ':7443', 'host:0', 'host:65536', 'host:port', 'https://host:7443', '[::1', '[nope]:1', '::1:7443', 'a b:1'])('refuses %s', (text) => {
    expect(() => parseControllerAddress(text)).toThrow(AgentUsageError);
  });

  test('never throws anything but a usage error', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const parsed = parseControllerAddress(text);
          expect(parsed.port).toBeGreaterThan(0);
        } catch (err) {
          expect(err).toBeInstanceOf(AgentUsageError);
        }
      }),
    );
  });
});
