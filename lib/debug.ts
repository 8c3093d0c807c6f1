import { debuglog } from 'node:util';

/**
 * ziptrace's own diagnostics: `NODE_DEBUG=ziptrace node app.js`.
 *
 * Callers check `debug.enabled` before building a message, so when it is off
 * the cost is one property read.
 */
export const debug = debuglog('ziptrace');
