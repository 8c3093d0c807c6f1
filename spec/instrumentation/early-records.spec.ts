/**
 * lib/instrumentation/early-records.ts: what it does with what is published
 * on `http.server.request.start`. Node's own messages get records (the
 * Express specs show where that matters); anything else published on the
 * name is left alone, and nothing it does throws, since a listener's throw
 * would reach the app as an uncaught exception.
 */
import diagnostics from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordRequestsEarly } from '../../lib/instrumentation/early-records.js';
import { HTTP_SERVER_REQUEST_START } from '../../lib/instrumentation/channels.js';
import { stateOf } from '../../lib/object-state.js';
import { sleep } from '../helpers/tracing.js';

const channel = diagnostics.channel(HTTP_SERVER_REQUEST_START);

describe('records made at http.server.request.start', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(error);
  };
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
    uncaught.length = 0;
  });

  it("gives Node's request and response theirs, and nothing else published on the name", () => {
    recordRequestsEarly();
    const request = new IncomingMessage(new Socket());
    const response = new ServerResponse(request);
    const other = { request: {}, response: {} };
    channel.publish({ request, response });
    channel.publish(other);
    expect(stateOf(request)).toBeDefined();
    expect(stateOf(response)).toBeDefined();
    expect(stateOf(other.request)).toBeUndefined();
    expect(stateOf(other.response)).toBeUndefined();
  });

  it('throws nothing, now or later, for a message it cannot use', async () => {
    recordRequestsEarly();
    process.on('uncaughtException', onUncaught);
    const refusing = new Proxy(new IncomingMessage(new Socket()), {
      set() {
        throw new Error('no new properties here');
      },
      defineProperty() {
        throw new Error('no new properties here');
      },
    });
    const throwing = {
      get request(): never {
        throw new Error('a getter that throws');
      },
    };
    for (const message of [undefined, null, 42, 'request', { request: refusing }, throwing]) expect(() => channel.publish(message)).not.toThrow();
    await sleep(20);
    expect(uncaught).toEqual([]);
  });
});
