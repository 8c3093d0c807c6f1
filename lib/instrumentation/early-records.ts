/**
 * Gives each node:http request and response its record (lib/object-state.ts)
 * the moment Node parses it, before any listener runs: what expressTracing()
 * turns on.
 *
 * Why: on Node 20 and 22, Express's prototype swap gives every request and
 * response a hidden class of its own, so a property added afterwards copies
 * the object's whole property list (about 1.3 kB each on Node 22, measured). Added here,
 * while every request still has Node's one hidden class, the record's
 * property follows a transition V8 made once, and Express's later adds
 * carry it along. Node 24 shares the classes after the swap too; there it
 * changes nothing.
 *
 * From the first expressTracing() on, for the life of the process (the
 * subscription is never removed): about 70 bytes per request and per
 * response, against about a kilobyte per property added after the swap.
 *
 * Only observes: a record is an empty object that nothing reads until an
 * integration fills it, so a request no integration traces (another server
 * in the process, a skipped path) only carries it until it is collected.
 */
import diagnostics from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse } from 'node:http';
import { debug } from '../debug.js';
import { stateFor } from '../object-state.js';
import { errorMessage } from '../values.js';
import { HTTP_SERVER_REQUEST_START } from './channels.js';

let subscribed = false;

function onRequestStart(message: unknown): void {
  // A listener's throw would reach the app as an uncaught exception (diagnostics_channel rethrows it on the
  // next tick): nothing here may throw. Only Node's request and response (their subclasses too, as
  // createServer({ IncomingMessage, ServerResponse }) makes them); anything else published on the name is
  // not ours to touch.
  try {
    const { request, response } = (message ?? {}) as { request?: unknown; response?: unknown };
    if (request instanceof IncomingMessage) stateFor(request);
    if (response instanceof ServerResponse) stateFor(response);
  } catch (error) {
    if (debug.enabled) debug('early records: could not give a request its record: %s', errorMessage(error));
  }
}

/** Subscribes once per copy of ziptrace; a Node without the channel (none of 20, 22, 24) only loses the saving. */
export function recordRequestsEarly(): void {
  if (subscribed) return;
  subscribed = true;
  try {
    diagnostics.subscribe(HTTP_SERVER_REQUEST_START, onRequestStart);
  } catch (error) {
    if (debug.enabled) debug('early records: could not subscribe to %s: %s', HTTP_SERVER_REQUEST_START, errorMessage(error));
  }
}
