/**
 * Whether a collector's URL names this machine, by the name alone (no DNS
 * lookup): `localhost` and `*.localhost` (RFC 6761 reserves them for
 * loopback), IPv4 `127.0.0.0/8`, IPv6 `::1` and IPv4-mapped `127.x.x.x`,
 * and the unspecified addresses `0.0.0.0` and `::`, which a connection
 * takes to this machine. The reporters' gzip default turns on it: a body
 * that never leaves the machine is not worth compressing (bench/README.md,
 * Reporting). A tunnel (`kubectl port-forward`, `ssh -L`) is a local name
 * for a far collector: `gzip: true` is for that.
 */

/** `URL.hostname` of an IPv4-mapped IPv6 loopback address, as WHATWG URL parsing writes it (`[::ffff:7f00:1]`). */
const MAPPED_LOOPBACK = /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/;
/** A dotted IPv4 address in 127.0.0.0/8, as WHATWG URL parsing writes it (it normalizes `127.1` and hex forms). */
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Whether `url`'s host is this machine by its name: see the module's comment. */
export function isLoopbackUrl(url: URL): boolean {
  // WHATWG URL parsing has lower-cased the name already; a fully qualified `localhost.` is the same name.
  const host = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host === '0.0.0.0' || host === '[::]') return true;
  return IPV4_LOOPBACK.test(host) || MAPPED_LOOPBACK.test(host);
}
