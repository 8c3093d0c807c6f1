/**
 * Who may talk to the viewer. It runs on a developer's machine and holds their
 * traces, so two browser attacks matter:
 *
 * - DNS rebinding: a page on evil.example re-points its own name at 127.0.0.1
 *   and then reads the viewer as same-origin. The browser still sends
 *   `Host: evil.example`, so only Host names known to be this machine are
 *   answered: IP literals (rebinding needs a name), `localhost` and
 *   `*.localhost` (which browsers resolve to loopback themselves), and names
 *   the user allows (`--allow-host`).
 * - Cross-site requests: any page may POST to a loopback port. Browsers send
 *   `Origin` with every cross-origin fetch and form POST, so a request whose
 *   Origin is not the viewer's own is refused; no CORS header is ever sent.
 *
 * Reporters in other processes send no Origin and are unaffected.
 */
import { isIP } from 'node:net';

/** A Host header's name part, lower-cased, brackets kept off an IPv6 literal; undefined when it does not parse. */
export function hostName(host: string): string | undefined {
  const text = host.trim().toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || (end + 1 < text.length && !validPort(text.slice(end + 1)))) return undefined;
    return text.slice(1, end);
  }
  const match = /^([a-z0-9._-]+)(:\d+)?$/.exec(text);
  if (match === null || (match[2] !== undefined && !validPort(match[2]))) return undefined;
  return match[1];
}

/** `:N` with N a port number, 0 to 65535. */
function validPort(text: string): boolean {
  return /^:\d{1,5}$/.test(text) && Number(text.slice(1)) <= 65535;
}

/**
 * Whether a request's Host header names this machine, or a name the user allowed.
 * A missing Host (HTTP/1.0) is let through: a browser always sends one.
 */
export function isAllowedHost(host: string | undefined, allowedHosts: ReadonlySet<string>): boolean {
  if (host === undefined) return true;
  const name = hostName(host);
  if (name === undefined) return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowedHosts.has(name);
}

/**
 * Whether a request's Origin (when it sent one) is the viewer itself: same
 * scheme, host and port as the Host it asked for. `Origin: null` (sandboxed
 * frames, file: pages) is foreign.
 */
export function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || hostName(host) === undefined) return false;
  try {
    return url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
