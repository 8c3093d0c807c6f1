// examples/logs.mjs
import { Writable } from 'node:stream';
import pino from 'pino';
import winston from 'winston';
import { createTracer, logFields, MemoryReporter, withSpan } from 'ziptrace';

createTracer({ serviceName: 'billing', reporter: new MemoryReporter() });

// pino: the ids come from a mixin, on every line written inside a span.
const log = pino({ mixin: logFields });

// winston: the same, as a format.
const withIds = winston.format((info) => Object.assign(info, logFields()));
const logger = winston.createLogger({
  format: winston.format.combine(withIds(), winston.format.json()),
  transports: [new winston.transports.Stream({ stream: new Writable({ write: (line, _, done) => done(null, process.stdout.write(`winston ${line}`)) }) })],
});

log.info('starting'); // outside a span: no ids
await withSpan('charge card', async () => {
  log.info({ cents: 1200 }, 'charging');
  logger.info('charging', { cents: 1200 });
});
