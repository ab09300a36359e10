import { isIP } from 'node:net';
import { AgentUsageError } from '../shared/agent-error';

/** Where the controller's agent port is. */
export interface ControllerAddress {
  host: string;
  port: number;
  /** As a gRPC target and for messages: `host:port`, `[::1]:port` for IPv6. */
  target: string;
}

/**
 * Parses `HOST:PORT` (`[v6addr]:PORT` for IPv6). The port is required: the agent port is
 * not a well-known one, and a silent default would send the join token to the wrong service.
 */
export function parseControllerAddress(text: string): ControllerAddress {
  const trimmed = text.trim();
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(trimmed);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new AgentUsageError(`bad controller address "${text}": expected HOST:PORT, e.g. controller.example.com:7443 or [::1]:7443`);
  }
  const host = match[1] ?? match[2];
  if (match[1] !== undefined && isIP(host) !== 6) throw new AgentUsageError(`bad controller address "${text}": "${host}" is not an IPv6 address`);
  return { host, port, target: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}
