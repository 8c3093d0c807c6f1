/**
 * lib/ids.ts with its random source under control: the pool's bytes are
 * chosen here (node:crypto's randomFillSync mocked), so the 1-in-2^64 cases
 * happen on purpose: an all-zero draw is skipped, never made an id. In a file
 * of its own, as the mock replaces the module's random source.
 */
import { describe, expect, it, vi } from 'vitest';

/** What the next pool fill writes: the bytes given, the rest 0x11. */
const fills: number[][] = [];

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    randomFillSync: (buffer: Buffer) => {
      buffer.fill(0x11);
      const bytes = fills.shift() ?? [];
      buffer.set(bytes);
      return buffer;
    },
  };
});

// The set-up files may have loaded lib/ already, with the real source: load a fresh copy.
vi.resetModules();
const { newSpanId, newTraceId, rootSpanId } = await import('../lib/ids.js');

describe('ids from a pool whose bytes this spec chooses', () => {
  it('skips an all-zero draw, for span and trace ids alike', () => {
    // The first fill: 8 zero bytes, then 0xab…, then 16 zero bytes, then the 0x11 filler.
    fills.push([...new Array(8).fill(0), ...new Array(8).fill(0xab), ...new Array(16).fill(0)]);
    expect(newSpanId()).toBe('abababababababab');
    expect(newTraceId(true)).toBe('11111111111111111111111111111111');
    expect(newTraceId(false)).toBe('1111111111111111');
  });

  it('draws a fresh span id for a root whose trace id’s lower half is zero', () => {
    expect(rootSpanId(`${'12'.repeat(8)}${'0'.repeat(16)}`)).toBe('1111111111111111');
    expect(rootSpanId('1234567890abcdef')).toBe('1234567890abcdef');
    expect(rootSpanId(`${'12'.repeat(8)}fedcba0987654321`)).toBe('fedcba0987654321');
  });
});
