/**
 * `svmsim gen`'s fast writer (src/gen/fast.ts) against the readable generators
 * (generate() + csvLine()/jsonlLine()): the same bytes for random options of every pattern,
 * in both encodings and piece sizes (each piece copied as it comes: the writer reuses its buffer),
 * also where it falls back (addresses beyond 2^53).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { generatedText } from '../../src/gen/fast.js';
import { csvLine, generate, jsonlLine, PATTERNS, type GenOptions } from '../../src/gen/generate.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 3;

const optsArb: fc.Arbitrary<GenOptions> = fc.record({
  pattern: fc.constantFrom(...PATTERNS),
  events: fc.integer({ min: 1, max: 1500 }),
  size: fc
    .oneof(fc.integer({ min: 512, max: 1 << 22 }), fc.integer({ min: 16 << 20, max: 40 << 20 }))
    .map((p) => BigInt(p) * 4096n),
  seed: fc.integer(),
  base: fc.oneof(
    fc.constant(0x7f0000000000n),
    fc.bigInt({ min: 0n, max: (1n << 43n) - 1n }).map((b) => b << 21n),
  ),
  // Also steps so long that times pass 2^53 (the writer then falls back) or come near it (16 digits).
  stepNs: fc.oneof(fc.integer({ min: 0, max: 100000 }), fc.bigInt({ min: 1n << 40n, max: 1n << 52n }).map(Number)),
});

/** Piece sizes: the default (1 MiB, one piece here), or small enough to cut most traces many times. */
const pieceArb = fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 4096 }));

describe('gen: fast writer = generate() + csvLine()/jsonlLine()', () => {
  test('same bytes for random options, every pattern, CSV and JSONL', () => {
    fc.assert(
      fc.property(optsArb, fc.constantFrom('csv' as const, 'jsonl' as const), pieceArb, (o, format, piece) => {
        const pieces: Buffer[] = [];
        for (const p of generatedText(o, format, piece)) pieces.push(Buffer.from(p));
        const fast = Buffer.concat(pieces).toString('latin1');
        const line = format === 'csv' ? csvLine : jsonlLine;
        let plain = '';
        for (const e of generate(o)) plain += line(e);
        expect(fast).toBe(plain);
      }),
      { numRuns: RUNS },
    );
  });
});
