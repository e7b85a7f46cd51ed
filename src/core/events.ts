/**
 * DOC: Core events
 *
 * The model consumes events in page units: the trace layer converts 64-bit byte addresses
 * (bigint at the edge) into a 4K page index plus the offset inside that page, and a byte length
 * into the number of pages the span [addr, addr+size) touches. A page index of a 64-bit address
 * is below 2^52, so it is exact as a JavaScript number.
 *
 * Time is in nanoseconds of the trace's own clock (the `t` field), never the host's.
 */

export const PAGE_SHIFT = 12;

export type Prot = 'none' | 'r' | 'rw';
/** anon = MAP_PRIVATE|MAP_ANONYMOUS (vma_is_anonymous); shared = MAP_SHARED|MAP_ANONYMOUS (shmem). */
export type MapKind = 'anon' | 'shared' | 'file' | 'hugetlb';
export type GpuAccess = 'read' | 'write' | 'atomic';
export type PrefetchRegion = 'smem' | 'vram' | 'advised';
export type PreferredLoc = 'device' | 'system';
export type AtomicAttr = 'undefined' | 'device' | 'global' | 'cpu';

/** Position of a span in pages. */
interface Span {
  /** addr >> 12 */
  page: number;
  /** addr & 0xfff */
  offset: number;
  /** Pages touched by [addr, addr + size): ceil((offset + size) / 4096); 0 when size is 0. */
  npages: number;
  /** size is a multiple of 4096. */
  sizeAligned: boolean;
}

interface Base {
  /** Trace time in ns; non-decreasing across events. */
  t: number;
  /** Process the event belongs to; absent = 1 (single-process traces). */
  pid?: number;
}

export type CoreEvent =
  | (Base & Span & { op: 'mmap'; prot: Prot; kind: MapKind })
  | (Base & Span & { op: 'munmap' })
  | (Base & Span & { op: 'mprotect'; prot: Prot })
  | (Base & Span & { op: 'madvise'; advice: 'dontneed' })
  | (Base & Span & { op: 'cpu_read' | 'cpu_write' })
  | (Base & Span & { op: 'gpu_read' | 'gpu_write' | 'gpu_atomic' })
  | (Base & Span & { op: 'gpu_fault'; access: GpuAccess })
  | (Base & Span & { op: 'xe_prefetch'; region: PrefetchRegion })
  | (Base & Span & { op: 'xe_madvise'; preferred?: PreferredLoc; atomic?: AtomicAttr });

export type Op = CoreEvent['op'];
