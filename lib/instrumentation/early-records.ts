/**
 * Gives each node:http request and response its record (lib/object-state.ts)
 * the moment Node parses it, before any listener runs: what expressTracing()
 * turns on.
 *
 * Why: on Node 20 and 22, Express's prototype swap gives every request and
 * response a hidden class of its own, so a property added afterwards copies
 * the object's whole property list (about 1 kB each, measured). Added here,
 * while every request still has Node's one hidden class, the record's
 * property follows a transition V8 made once, and Express's later adds
 * carry it along. Node 24 shares the classes after the swap too; there it
 * changes nothing.
 *
 * Only observes: a record is an empty object that nothing reads until an
 * integration fills it, so a request no integration traces (another server
 * in the process, a skipped path) only carries it until it is collected.
 */
import diagnostics from 'node:diagnostics_channel';
import { debug } from '../debug.js';
import { stateFor } from '../object-state.js';
import { errorMessage } from '../values.js';
import { HTTP_SERVER_REQUEST_START } from './channels.js';

let subscribed = false;

function onRequestStart(message: unknown): void {
  // Node's message; anything else published on the name is not ours to touch.
  const { request, response } = (message ?? {}) as { request?: unknown; response?: unknown };
  if (request !== null && typeof request === 'object') stateFor(request);
  if (response !== null && typeof response === 'object') stateFor(response);
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
