// The floor, alone in its process: AsyncLocalStorage.run(store, async () => { await null })
// with no tracing library loaded. Every ratio "x floor" divides by this.
import { floorWorkload, runChild } from './harness.mjs';

await runChild('floor', { floor: floorWorkload() });
