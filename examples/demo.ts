// examples/demo.ts
import { createTracer, ConsoleReporter, withSpan, traced, currentSpan } from 'ziptrace';

// Prints each trace as a tree; with ZIPKIN_URL set (http://127.0.0.1:9411), sends it to Zipkin too.
const tracer = createTracer({
  serviceName: 'shop',
  reporter: new ConsoleReporter(),
  zipkinUrl: process.env.ZIPKIN_URL || undefined,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Inventory {
  @traced()
  async reserve(sku: string): Promise<void> {
    currentSpan()?.tag('sku', sku);
    await sleep(3);
  }
}

class Payments {
  @traced({ kind: 'CLIENT', tags: { 'peer.service': 'payments' } })
  async charge(cents: number): Promise<string> {
    await sleep(5);
    if (cents > 10_000) throw new Error('card declined');
    return 'ch_1';
  }
}

const inventory = new Inventory();
const payments = new Payments();

async function checkout(orderId: number, sku: string, cents: number): Promise<string> {
  return withSpan('POST /checkout', { kind: 'SERVER', tags: { 'order.id': orderId } }, async () => {
    await withSpan('Slow SQL', { kind: 'CLIENT', tags: { 'db.type': 'sql' } }, async (span) => {
      span.annotate('START SQL');
      await sleep(12);
      span.annotate('END SQL');
    });
    await inventory.reserve(sku);
    return payments.charge(cents);
  });
}

await checkout(1, 'book', 2_500);
await checkout(2, 'piano', 250_000).catch((error: Error) => console.log(`order 2 failed: ${error.message}\n`));
await tracer.close();
