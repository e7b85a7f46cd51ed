/**
 * The text check of a trace's head (src/trace/binary.ts checkHead): its native scans against the
 * byte loop it replaced, on random heads — the same refusal (message and line) or none.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkHead } from '../../src/trace/binary.js';

/** The byte loop (checkHead before the native scans), compression magic aside. */
function plainCheck(head: Uint8Array): string | undefined {
  let line = 1;
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i];
    if (c === 10) line++;
    else if (c === 0) return `t.csv:${line}: binary data (NUL byte) in a text trace`;
    else if (c < 32 && c !== 9 && c !== 13 && c !== 12) control++;
  }
  if (control * 8 > head.length)
    return `t.csv:1: binary data (${control} control bytes in the first ${head.length}), expected a text trace`;
  return undefined;
}

function check(head: Uint8Array): string | undefined {
  try {
    checkHead(head, 't.csv');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

// bytes that matter: text, every control byte, LF, NUL, and high bytes (never a compression magic first)
const byte = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(9, 10, 12, 13) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 31 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.constant(0) },
);
const headArb = fc
  .array(byte, { minLength: 1, maxLength: 400 })
  .map((a) => Uint8Array.from([0x74, ...a])) // starts with 't': no magic
  .chain((u) => fc.constantFrom(u, Buffer.from(u), Buffer.concat([Buffer.alloc(3), u]).subarray(3)));

describe('checkHead', () => {
  test('native scans = the byte loop: the same refusal at the same line, or none (fast-check)', () => {
    fc.assert(
      fc.property(headArb, (head) => {
        expect(check(head)).toBe(plainCheck(head));
      }),
      { numRuns: Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) * 10, seed: 3 },
    );
  });

  test('a clean text head passes; a NUL names its line; many control bytes are counted', () => {
    expect(check(Buffer.from('t,op,addr,size\n0,mmap,0x7f0000000000,2M\n'))).toBeUndefined();
    expect(check(Buffer.from('t,op\n\n1,x\u0000'))).toBe('t.csv:3: binary data (NUL byte) in a text trace');
    expect(check(Buffer.alloc(64, 1))).toBe(
      't.csv:1: binary data (64 control bytes in the first 64), expected a text trace',
    );
  });
});
