import { isIPv4, isIPv6 } from 'node:net';
import { describe } from './describe.js';
import { InvalidOptionError } from './errors.js';
import type { Endpoint, EndpointAddress } from './types.js';

/**
 * Builds an endpoint from parts, keeping only the valid ones. Returns the
 * problems found, so `createEndpoint` can throw and a span setter can ignore.
 */
export function buildEndpoint(serviceName: unknown, address: EndpointAddress | undefined, problems?: string[]): Endpoint {
  const endpoint: Endpoint = {};
  if (serviceName !== undefined) {
    if (typeof serviceName === 'string' && serviceName.trim().length > 0) endpoint.serviceName = serviceName;
    else problems?.push(`serviceName must be a non-empty string, got ${describe(serviceName)}`);
  }
  if (address !== undefined && address !== null && typeof address !== 'object') {
    problems?.push(`the address must be an object such as { ipv4: '10.0.0.1', port: 8080 }, got ${describe(address)}`);
  } else if (address !== undefined && address !== null) {
    const { ipv4, ipv6, port } = address;
    if (ipv4 !== undefined) {
      if (typeof ipv4 === 'string' && isIPv4(ipv4)) endpoint.ipv4 = ipv4;
      else problems?.push(`ipv4 must be a dotted IPv4 address such as '10.0.0.1', got ${describe(ipv4)}`);
    }
    if (ipv6 !== undefined) {
      if (typeof ipv6 === 'string' && isIPv6(ipv6)) endpoint.ipv6 = ipv6;
      else problems?.push(`ipv6 must be an IPv6 address such as '::1', got ${describe(ipv6)}`);
    }
    if (port !== undefined) {
      if (Number.isInteger(port) && port > 0 && port <= 65535) endpoint.port = port;
      else problems?.push(`port must be an integer from 1 to 65535, got ${describe(port)}`);
    }
  }
  return endpoint;
}

/**
 * Describes a service's network location for Zipkin: `createEndpoint('gateway', { ipv4: '10.0.0.1', port: 8080 })`.
 * Throws a `TypeError` naming the field to fix when a part is invalid.
 */
export function createEndpoint(serviceName: string, address?: EndpointAddress): Endpoint {
  const problems: string[] = [];
  // buildEndpoint reports a bad name it is given; only a missing one is left to say here.
  if (serviceName === undefined) problems.push('serviceName must be a non-empty string, got undefined');
  const endpoint = buildEndpoint(serviceName, address, problems);
  if (problems.length > 0) throw new InvalidOptionError(`ziptrace: createEndpoint: ${problems.join('; ')}`);
  return Object.freeze(endpoint);
}
