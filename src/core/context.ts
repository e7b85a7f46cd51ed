/**
 * DOC: Simulation context
 *
 * The whole modelled machine, passed to every handler: the current process's mm (VMAs + CPU page
 * table), drm_gpusvm instance (notifiers and ranges) and Xe VM (mirror GPU VMAs and the
 * garbage-collector list) — switched per event by processes.ts — and what the processes share: the
 * drm_pagemap (VRAM BOs), the GT stats, the simulated clock and the decision log of the event
 * being replayed. Nothing here does I/O or reads the host clock.
 */

import type { CostModel } from './cost-model.js';
import type { Decision } from './decisions.js';
import type { Gpusvm } from './drm-gpusvm/gpusvm.js';
import type { XeSvmRange } from './xe-svm/range.js';
import type { DrmPagemap } from './drm-pagemap/pagemap.js';
import type { CpuPageTable } from './mm/page-table.js';
import type { VmaList } from './mm/vma.js';
import { kernelAtLeast, type Platform } from './platform.js';
import type { XeVm } from './xe-svm/vm.js';
import type { SimProcess } from './processes.js';
import type { Metrics, ThrashTracker } from './metrics.js';
import { Stat, type TileStats } from './xe-gt-stats.js';

/** Simulated time. `now` is in ns of the trace clock. */
export class SimClock {
  now = 0;

  constructor(private readonly hz: number) {}

  /** Current jiffies (floor). */
  jiffies(): number {
    return Math.floor((this.now * this.hz) / 1e9);
  }

  /** msecs_to_jiffies(): rounds up. */
  msecsToJiffies(ms: number): number {
    return Math.ceil((ms * this.hz) / 1000);
  }

  /** First ns at which jiffies() reaches `j`. */
  jiffiesToNs(j: number): number {
    return Math.ceil((j * 1e9) / this.hz);
  }

  /** Move time forward (never back). */
  advanceTo(ns: number): void {
    if (ns > this.now) this.now = ns;
  }
}

/**
 * The kernel-version tests of the hot paths, answered once per platform: `sim.kv.v618` instead of
 * comparing version strings per event.
 */
export interface KernelFlags {
  /** 6.15-rc1 (the first SVM merge: skip_migrate, no timeslice, no devmem_only). */
  readonly rc1: boolean;
  readonly v615: boolean;
  readonly v616: boolean;
  readonly v617: boolean;
  readonly v618: boolean;
}

export function kernelFlags(p: Platform): KernelFlags {
  const k = p.kernel;
  return {
    rc1: k === '6.15-rc1',
    v615: kernelAtLeast(k, '6.15'),
    v616: kernelAtLeast(k, '6.16'),
    v617: kernelAtLeast(k, '6.17'),
    v618: kernelAtLeast(k, '6.18'),
  };
}

export interface Mm {
  vmas: VmaList;
  pt: CpuPageTable;
}

export interface SimContext {
  readonly platform: Platform;
  /** Kernel-version flags of `platform.kernel`. */
  readonly kv: KernelFlags;
  readonly clock: SimClock;
  /** The process being served and its parts (processes.ts enterProcess()). */
  proc: SimProcess;
  mm: Mm;
  gpusvm: Gpusvm<XeSvmRange>;
  vm: XeVm;
  /** Every process by pid, in order of first appearance. */
  readonly procs: Map<number, SimProcess>;
  /** Shared by all processes: one VRAM pool, one eviction order. */
  readonly pagemap: DrmPagemap;
  readonly stats: TileStats;
  readonly cost: CostModel;
  /** Decisions of the event being replayed. */
  log: Decision[];
  /**
   * Someone reads the decisions: handlers build decision records only when this is set (hot
   * paths test it before building one: no allocation per event otherwise).
   */
  recording: boolean;
  /** Index of the event being replayed. */
  seq: number;
  /** CONFIG_DRM_XE_DEBUG_VM: record the kernel's vm_dbg print points (implies recording). */
  debugVm?: boolean;
  /** The current process's metrics and thrash tracker. */
  metrics: Metrics;
  thrash: ThrashTracker;
}

/** One range-based TLB invalidation sent to the primary and the media GT (tlb_inval_count). */
export function sendTlbInval(sim: SimContext): void {
  sim.stats.incrAllGts(Stat.tlb_inval_count);
  sim.metrics.tlbInvalidations++;
}

/**
 * Append a decision to the current event's log (nothing when no one reads the log). On hot paths
 * call it as `if (sim.recording) emit(sim, {...})`, so that the record is not even built.
 */
export function emit(sim: SimContext, d: Decision): void {
  if (sim.recording) sim.log.push(d);
}
