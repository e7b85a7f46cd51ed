/**
 * vma_lookup() with VmaList's one-entry cache of the VMA found last (src/core/mm/vma.ts) against a
 * plain scan of the list, on random sequences of mmap (insert, merging or not), munmap (remove:
 * trims, splits, drops), mprotect (protect: splits and re-merges) and lookups: a lookup after any
 * change must never return a VMA the change replaced or removed.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CpuVma } from '../../src/core/mm/vma.js';
import { VmaList } from '../../src/core/mm/vma.js';

const RUNS = Math.max(50, Math.round(Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 2));

/** The VMA containing `page` by a linear scan (what vma_lookup() means). */
function scan(v: VmaList, page: number): CpuVma | undefined {
  return v.all().find((x) => x.start <= page && page < x.end);
}

describe('VmaList.lookup (vma_lookup) with its last-found cache', () => {
  test('agrees with a plain scan after random mmap/munmap/mprotect sequences', () => {
    // Page numbers near 2^35 as well as small ones (doubles and small integers).
    const base = fc.constantFrom(0, 2 ** 35);
    const span = fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 24 }));
    const op = fc.oneof(
      fc.tuple(fc.constant('mmap' as const), span, fc.constantFrom('anon', 'shared')),
      fc.tuple(fc.constant('munmap' as const), span, fc.constant('anon')),
      fc.tuple(fc.constant('mprotect' as const), span, fc.constantFrom('r', 'rw')),
      fc.tuple(fc.constant('lookup' as const), span, fc.constant('anon')),
    );
    fc.assert(
      fc.property(base, fc.boolean(), fc.array(op, { maxLength: 120 }), (b, merge, ops) => {
        const v = new VmaList(merge);
        for (const [kind, [s, n], arg] of ops) {
          const start = b + s;
          const end = start + n;
          if (kind === 'mmap') {
            v.remove(start, end);
            v.insertSpan(start, end, 'rw', arg as 'anon' | 'shared');
          } else if (kind === 'munmap') v.remove(start, end);
          else if (kind === 'mprotect') {
            if (v.all().some((x) => x.start < end && start < x.end)) v.protect(start, end, arg as 'r' | 'rw');
          }
          // Look up every page around the span (twice: the second finds the cached VMA).
          for (let p = start - 2; p < end + 2; p++) {
            expect(v.lookup(p)).toBe(scan(v, p));
            expect(v.lookup(p)).toBe(scan(v, p));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
