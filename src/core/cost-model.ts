/**
 * DOC: Cost model for the `_us` counters
 *
 * The kernel fills `svm_*_us` counters with measured wall-clock microseconds (ktime deltas). They
 * cannot be derived from source, so svmsim estimates them with a fixed, documented, deterministic
 * model; `--cost-model zero` prints zeros instead. Only the counters are affected: simulated time
 * (`t`, jiffies, timeslices) follows the trace, not this model.
 *
 * Defaults describe a BMG-class card (Arc B580: PCIe 4.0 x8, 15.75 GB/s raw per direction; about
 * 80% of it achievable by the copy engine) and published fault-service figures for GPU demand
 * paging (tens of microseconds per fault round trip). See docs/cost-model.md.
 *
 * Each estimate is rounded to whole microseconds with a floor of 1 µs, because the kernel only
 * adds a `_us` value where it did real work.
 */

import type { CostModelName } from './platform.js';

export interface CostParams {
  /** Fault handler entry, locking and GC check, per handler invocation (µs). */
  faultBaseUs: number;
  /** hmm_range_fault + DMA map, per get_pages call (µs). */
  getPagesBaseUs: number;
  /** Per page returned by hmm_range_fault (ns). */
  getPagesPerPageNs: number;
  /** Per page that had to be faulted in (allocate + zero a 4K page, ns). */
  faultInPerPageNs: number;
  /** One PT-update job and its fence, per bind (µs). */
  bindUs: number;
  /** BO creation + migrate_vma setup/finalize, per migration (µs). */
  migrateBaseUs: number;
  /** migrate_vma per page (ns). */
  migratePerPageNs: number;
  /** Host→device copy bandwidth (bytes per µs, i.e. MB/s). */
  h2dBytesPerUs: number;
  /** Device→host copy bandwidth (bytes per µs). */
  d2hBytesPerUs: number;
  /** Per copy job (every 8 MiB chunk), µs. */
  copyJobUs: number;
  /** One range-based TLB invalidation round trip through the GuC (µs). */
  tlbInvalUs: number;
}

const BMG_COST: CostParams = {
  faultBaseUs: 6,
  getPagesBaseUs: 2,
  getPagesPerPageNs: 40,
  faultInPerPageNs: 450,
  bindUs: 8,
  migrateBaseUs: 15,
  migratePerPageNs: 120,
  h2dBytesPerUs: 12_600,
  d2hBytesPerUs: 12_000,
  copyJobUs: 6,
  tlbInvalUs: 4,
};

const COPY_CHUNK_PAGES = 2048; // XE_MIGRATE_CHUNK_SIZE = SZ_8M

function us(x: number): number {
  return Math.max(1, Math.round(x));
}

export class CostModel {
  /** `--cost-model zero`: every estimate is 0. */
  private readonly zero: boolean;
  /**
   * The last argument and estimate of each formula: a trace repeats its sizes (every 2M range is
   * 512 pages), and the estimates are pure functions of them. -1: nothing yet.
   */
  private gpPages = -1;
  private gpFaultedIn = -1;
  private gpUs = 0;
  private migPages = -1;
  private migUs = 0;
  private h2dPages = -1;
  private h2dUs = 0;
  private d2hPages = -1;
  private d2hUs = 0;

  constructor(
    readonly name: CostModelName,
    private readonly p: CostParams = BMG_COST,
  ) {
    this.zero = name === 'zero';
  }

  /** Fixed handler overhead of one fault-handler invocation. */
  faultBase(): number {
    return this.zero ? 0 : this.p.faultBaseUs;
  }

  getPages(pages: number, faultedIn: number): number {
    if (this.zero) return 0;
    if (pages !== this.gpPages || faultedIn !== this.gpFaultedIn) {
      this.gpPages = pages;
      this.gpFaultedIn = faultedIn;
      this.gpUs = us(
        this.p.getPagesBaseUs + (pages * this.p.getPagesPerPageNs + faultedIn * this.p.faultInPerPageNs) / 1000,
      );
    }
    return this.gpUs;
  }

  bind(): number {
    return this.zero ? 0 : this.p.bindUs;
  }

  /** Migration attempt of `pages` pages, not counting the copy. */
  migrate(pages: number): number {
    if (this.zero) return 0;
    if (pages !== this.migPages) {
      this.migPages = pages;
      this.migUs = us(this.p.migrateBaseUs + (pages * this.p.migratePerPageNs) / 1000);
    }
    return this.migUs;
  }

  /** A copy of `copied` pages in one direction (0 when nothing was copied). */
  copy(copied: number, dir: 'h2d' | 'd2h'): number {
    if (this.zero || copied === 0) return 0;
    if (dir === 'h2d') {
      if (copied !== this.h2dPages) {
        this.h2dPages = copied;
        this.h2dUs = copyUs(copied, this.p.copyJobUs, this.p.h2dBytesPerUs);
      }
      return this.h2dUs;
    }
    if (copied !== this.d2hPages) {
      this.d2hPages = copied;
      this.d2hUs = copyUs(copied, this.p.copyJobUs, this.p.d2hBytesPerUs);
    }
    return this.d2hUs;
  }

  tlbInval(): number {
    return this.zero ? 0 : this.p.tlbInvalUs;
  }

  /** Time spent retrying a failed BO allocation (xe_vm_validate_should_retry: up to 1000 ms). */
  allocRetry(): number {
    return this.zero ? 0 : 1_000_000;
  }
}

/** One copy of `copied` pages: a job per 8 MiB chunk, and the bytes at `bw` bytes per µs. */
function copyUs(copied: number, jobUs: number, bw: number): number {
  const jobs = Math.ceil(copied / COPY_CHUNK_PAGES);
  return us(jobs * jobUs + (copied * 4096) / bw);
}
