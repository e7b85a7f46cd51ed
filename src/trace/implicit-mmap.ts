/**
 * DOC: Implicit mappings for faults-only recordings (`replay --implicit-mmap`)
 *
 * A recording of GPU faults alone (KFD SMI events, an nsys export, a capture started after the
 * allocations) has no mmap: every fault would fail with -ENOENT (no CPU VMA). With
 * --implicit-mmap, the first event that touches a 2 MiB-aligned block which no mmap of the trace
 * has covered so far is preceded by an anonymous rw `mmap` of that whole block (MAP_PRIVATE |
 * MAP_ANONYMOUS, like a malloc'd buffer; adjacent blocks merge into one VMA). The added events
 * carry `implicit: true` and the line of the event that caused them, and the report shows them
 * as `implicit=yes`. A trace-level transform: the model sees ordinary mmaps.
 *
 * Memory: one entry per touched 2 MiB block, plus the trace's own mmaps.
 */

import { PAGE_SHIFT, type CoreEvent } from '../core/events.js';
import type { ParsedEvent } from './parse.js';
import { eventPuller } from './stream.js';

const BLOCK_SHIFT = 21n;
const BLOCK_PAGES = 1 << (21 - PAGE_SHIFT);

const TOUCHING = new Set<CoreEvent['op']>([
  'cpu_read',
  'cpu_write',
  'gpu_read',
  'gpu_write',
  'gpu_atomic',
  'gpu_fault',
  'xe_prefetch',
]);

/** What the transform added (for the note on stderr). */
export interface ImplicitMmapStats {
  added: number;
  first?: { addr: bigint; line: number };
}

/** Events with an anonymous rw 2 MiB mmap before the first touch of each unmapped block. */
export function withImplicitMmap(
  events: Iterable<ParsedEvent>,
  stats: ImplicitMmapStats,
): { read(): ParsedEvent | undefined; [Symbol.iterator](): Iterator<ParsedEvent> } {
  const next = eventPuller(events, false);
  /**
   * Per process (each pid has its own mm): the blocks touched so far, and the trace's own mmaps as
   * [startBlock, endBlock) (a block they overlap gets no implicit mmap).
   */
  const procs = new Map<number, { touched: Set<number>; mapped: [number, number][] }>();
  const proc = (pid: number | undefined) => {
    const key = pid ?? 1;
    let p = procs.get(key);
    if (p === undefined) procs.set(key, (p = { touched: new Set(), mapped: [] }));
    return p;
  };
  const queue: ParsedEvent[] = [];

  const read = (): ParsedEvent | undefined => {
    if (queue.length > 0) return queue.shift();
    const e = next();
    if (e === undefined) return undefined;
    const c = e.core;
    if (c.op === 'mmap') {
      const first = c.page / BLOCK_PAGES;
      proc(c.pid).mapped.push([Math.floor(first), Math.ceil((c.page + c.npages) / BLOCK_PAGES)]);
      return e;
    }
    if (!TOUCHING.has(c.op)) return e;
    const { touched, mapped } = proc(c.pid);
    const b0 = Math.floor(c.page / BLOCK_PAGES);
    const b1 = Math.floor((c.page + Math.max(c.npages, 1) - 1) / BLOCK_PAGES);
    for (let b = b0; b <= b1; b++) {
      if (touched.has(b)) continue;
      touched.add(b);
      if (mapped.some(([s, x]) => b >= s && b < x)) continue;
      const addr = BigInt(b) << BLOCK_SHIFT;
      queue.push({
        core: {
          op: 'mmap',
          t: c.t,
          page: b * BLOCK_PAGES,
          offset: 0,
          npages: BLOCK_PAGES,
          sizeAligned: true,
          prot: 'rw',
          kind: 'anon',
          ...(c.pid !== undefined ? { pid: c.pid } : {}),
        },
        line: e.line,
        addr,
        size: 1n << BLOCK_SHIFT,
        implicit: true,
      });
      stats.added++;
      stats.first ??= { addr, line: e.line };
    }
    if (queue.length === 0) return e;
    queue.push(e);
    return queue.shift();
  };
  return {
    read,
    *[Symbol.iterator]() {
      for (let e = read(); e !== undefined; e = read()) yield e;
    },
  };
}
