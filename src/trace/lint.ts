/**
 * DOC: Trace lints (`svmsim check`)
 *
 * Checks that need no model: the trace is read once while the CPU mappings are tracked with the
 * core's VMA list, and suspicious events are reported as typed warnings with their line:
 *
 * - munmap_nothing: a munmap (or madvise/mprotect) of a span with no mapping at all;
 * - gpu_unmapped / cpu_unmapped: an access to a page with no CPU mapping (the GPU fault fails
 *   with -ENOENT, the CPU gets SIGSEGV);
 * - straddle: an access whose span covers more than one VMA or runs off the end of one;
 * - kernel_lacks: an ioctl the chosen kernel does not have;
 * - unaligned: a syscall address that is not page aligned (replays as -EINVAL).
 */

import type { CoreEvent } from '../core/events.js';
import { VmaList } from '../core/mm/vma.js';
import { kernelAtLeast, type KernelVersion } from '../core/platform.js';
import type { ParsedEvent } from './parse.js';

export type LintCode = 'munmap_nothing' | 'gpu_unmapped' | 'cpu_unmapped' | 'straddle' | 'kernel_lacks' | 'unaligned';

export interface LintWarning {
  line: number;
  code: LintCode;
  op: string;
  /** Page index the warning is about. */
  page: number;
  /** For kernel_lacks: the version that added the op. */
  since?: string;
  /** For kernel_lacks: what is missing when it is less than the op (e.g. `xe_prefetch region=advised`). */
  what?: string;
  /** For unaligned: the byte address as written (page << 12 | offset). */
  addr?: bigint;
}

/** Lints over a stream of events; call `add()` per event, read `warnings`. */
export class Linter {
  readonly warnings: LintWarning[] = [];
  /** CPU mappings per process (each pid has its own mm). */
  private readonly mms = new Map<number, VmaList>();
  private vmas = new VmaList(true);
  private pid = 1;

  constructor(private readonly kernel: KernelVersion) {}

  get kernelVersion(): KernelVersion {
    return this.kernel;
  }

  private warn(e: ParsedEvent, code: LintCode, page: number, since?: string, what?: string): void {
    const w: LintWarning = { line: e.line, code, op: e.core.op, page };
    if (since !== undefined) w.since = since;
    if (what !== undefined) w.what = what;
    if (code === 'unaligned') w.addr = (BigInt(page) << 12n) | BigInt(e.core.offset);
    this.warnings.push(w);
  }

  /** Pages [page, page+n) covered by VMAs: 'none', 'one' VMA, or 'several'/'partial'. */
  private coverage(start: number, end: number): 'none' | 'one' | 'straddle' {
    const vs = this.vmas.overlapping(start, end);
    if (vs.length === 0) return 'none';
    if (vs.length === 1 && vs[0].start <= start && vs[0].end >= end) return 'one';
    return 'straddle';
  }

  add(e: ParsedEvent): void {
    const c: CoreEvent = e.core;
    const pid = c.pid ?? 1;
    if (pid !== this.pid || this.mms.size === 0) {
      let v = this.mms.get(pid);
      if (v === undefined) {
        v = this.mms.size === 0 ? this.vmas : new VmaList(true);
        this.mms.set(pid, v);
      }
      this.vmas = v;
      this.pid = pid;
    }
    const start = c.page;
    const end = c.page + Math.max(1, c.npages);
    switch (c.op) {
      case 'mmap':
        if (c.offset !== 0) {
          this.warn(e, 'unaligned', start);
          return;
        }
        this.vmas.remove(start, end);
        this.vmas.insert({ start, end, prot: c.prot, kind: c.kind });
        return;
      case 'munmap':
      case 'madvise':
      case 'mprotect':
        if (c.offset !== 0) {
          this.warn(e, 'unaligned', start);
          return;
        }
        if (this.coverage(start, end) === 'none') this.warn(e, 'munmap_nothing', start);
        if (c.op === 'munmap') this.vmas.remove(start, end);
        else if (c.op === 'mprotect') this.vmas.protect(start, end, c.prot);
        return;
      case 'cpu_read':
      case 'cpu_write':
      case 'gpu_read':
      case 'gpu_write':
      case 'gpu_atomic':
      case 'gpu_fault': {
        const cov = this.coverage(start, c.op === 'gpu_fault' ? start + 1 : end);
        if (cov === 'none') this.warn(e, c.op.startsWith('cpu') ? 'cpu_unmapped' : 'gpu_unmapped', start);
        else if (cov === 'straddle') this.warn(e, 'straddle', start);
        return;
      }
      case 'xe_prefetch':
        if (!kernelAtLeast(this.kernel, '6.17')) this.warn(e, 'kernel_lacks', start, '6.17');
        else if (c.region === 'advised' && !kernelAtLeast(this.kernel, '6.18'))
          this.warn(e, 'kernel_lacks', start, '6.18', 'xe_prefetch region=advised');
        return;
      case 'xe_madvise':
        if (!kernelAtLeast(this.kernel, '6.18')) this.warn(e, 'kernel_lacks', start, '6.18');
        return;
    }
  }
}
