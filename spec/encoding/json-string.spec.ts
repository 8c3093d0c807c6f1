/** lib/encoding/json-string.ts: quote() gives exactly JSON.stringify's text for every string. */
import { describe, expect, it } from 'vitest';
import { quote } from '../../lib/encoding/json-string.js';
import { seededRandom } from '../helpers/tracing.js';

describe('quote', () => {
  it('is JSON.stringify for each of the first 256 code units and for lone and paired surrogates', () => {
    for (let c = 0; c < 256; c++) {
      const text = `a${String.fromCharCode(c)}b`;
      expect(quote(text), `code unit ${c}`).toBe(JSON.stringify(text));
    }
    for (const text of ['\ud800', '\udfff', 'x\ud83d\ude00y', '\u2028', '\u007f', '']) expect(quote(text)).toBe(JSON.stringify(text));
  });

  it('is JSON.stringify for 5,000 random strings, short and long (past the 256 units quoted by hand)', () => {
    const random = seededRandom();
    const units = [0x20, 0x21, 0x22, 0x5c, 0x7e, 0x7f, 0x0a, 0x00, 0x41, 0x2f, 0xe9, 0x2028, 0xd800, 0xdc00];
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(random() * (n % 10 === 0 ? 400 : 24));
      let text = '';
      for (let i = 0; i < length; i++) text += String.fromCharCode(random() < 0.8 ? 0x20 + Math.floor(random() * 95) : units[Math.floor(random() * units.length)]!);
      expect(quote(text)).toBe(JSON.stringify(text));
    }
  });
});
