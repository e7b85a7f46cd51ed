/**
 * numberText() (format.ts: decimal text from digit tables, without V8's number-to-string cache)
 * against String(), the straightforward version it stands in for in the dmesg and perfetto
 * writers: integers of every size and sign, thousandths (microseconds of nanosecond times, where
 * the fast path builds the fraction itself), and every other double (String()'s own path).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { numberText } from '../../src/report/format.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) * 10;

/** numberText(x) = String(x) for every x of `numbers`. */
function sameAsString(numbers: fc.Arbitrary<number>, seed: number): void {
  fc.assert(
    fc.property(numbers, (x) => {
      expect(numberText(x)).toBe(String(x));
    }),
    { numRuns: RUNS, seed },
  );
}

describe('numberText = String (fast-check)', () => {
  test('integers below 2^53, either sign', () => sameAsString(fc.maxSafeInteger(), 41));

  test('thousandths: k / 1000 and k / 1000 + a little (around the 2^32 bound too)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.integer({ min: -2000, max: 2000 })),
        fc.constantFrom(0, 1e-9, -1e-9, 1e-4),
        (k, eps) => {
          const x = k / 1000 + eps;
          expect(numberText(x)).toBe(String(x));
          const y = 2 ** 32 - k / 1000;
          expect(numberText(y)).toBe(String(y));
        },
      ),
      { numRuns: RUNS, seed: 42 },
    );
  });

  test('any double', () => sameAsString(fc.double(), 43));

  test('edges', () => {
    for (const x of [
      0,
      -0,
      1,
      -1,
      999,
      1000,
      1001,
      999_999,
      2 ** 31,
      2 ** 53 - 1,
      2 ** 53,
      0.001,
      0.0005,
      1.0005,
      0.1 + 0.2,
      4294967295.999,
      4294967296.5,
      1e21,
      1e-7,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ])
      expect(numberText(x)).toBe(String(x));
  });
});
