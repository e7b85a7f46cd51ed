/**
 * DOC: Processes sharing one GPU
 *
 * Several SVM applications can run on one device. Each process (pid) has its own mm — CPU VMAs
 * and CPU page table — and its own fault-mode Xe VM: an ASID, the drm_gpusvm instance with its
 * notifiers and ranges, the mirror GPU VMA(s) and the garbage-collector list. What the processes
 * share is the device: one VRAM pool with one TTM eviction order, the same GTs and their
 * counters, one clock. A fault in one process can therefore evict another process's BO; the
 * eviction's notifier callbacks zap and invalidate in the victim's VM, never in the faulting one.
 *
 * The model keeps one SimProcess per pid, created at its first event (pid 1 when the trace has no
 * pid field), and points the context's `mm`, `gpusvm`, `vm`, `metrics` and `thrash` at the process
 * being served (`enterProcess`). Work done on behalf of another process — BO eviction — enters the
 * victim's process for its duration and comes back.
 */

import { emit, type Mm, type SimContext } from './context.js';
import { Gpusvm, type GpusvmOps } from './drm-gpusvm/gpusvm.js';
import { newMetrics, ThrashTracker, type Metrics, type ThrashOptions } from './metrics.js';
import { CpuPageTable } from './mm/page-table.js';
import { VmaList } from './mm/vma.js';
import type { Platform } from './platform.js';
import { XeVm } from './xe-svm/vm.js';
import type { XeSvmRange } from './xe-svm/range.js';

export class SimProcess {
  readonly mm: Mm;
  readonly gpusvm: Gpusvm<XeSvmRange>;
  readonly vm: XeVm;
  readonly metrics: Metrics = newMetrics();
  readonly thrash: ThrashTracker;
  /** BO evictions this process's VRAM allocations forced (on any process, itself included). */
  evictionsCaused = 0;

  constructor(
    readonly pid: number,
    /** xe_vm.usm.asid: faults are routed to the VM by ASID. */
    readonly asid: number,
    platform: Platform,
    ops: GpusvmOps<XeSvmRange>,
    thrash: ThrashOptions,
  ) {
    const vmPages = 2 ** (platform.vaBits - 12);
    this.mm = { vmas: new VmaList(platform.vmaMerge), pt: new CpuPageTable() };
    this.gpusvm = new Gpusvm(Number(platform.notifierBytes >> 12n), vmPages, [512, 16, 1], ops);
    this.vm = new XeVm(vmPages, platform.mirrorReadOnly, platform.mirrorMadviseAutoreset);
    this.thrash = new ThrashTracker(thrash);
  }
}

/** Point the context at process `p` (its mm, gpusvm, Xe VM, metrics and thrash tracker). */
export function enterProcess(sim: SimContext, p: SimProcess): void {
  sim.proc = p;
  sim.mm = p.mm;
  sim.gpusvm = p.gpusvm;
  sim.vm = p.vm;
  sim.metrics = p.metrics;
  sim.thrash = p.thrash;
}

/**
 * Run `fn` in the process owning `pid` (work the device does on another process's behalf), then
 * come back. Recorded as `process` decisions when it crosses processes.
 */
export function inProcessOf<T>(sim: SimContext, pid: number, fn: () => T): T {
  const prev = sim.proc;
  if (prev.pid === pid) return fn();
  const p = sim.procs.get(pid);
  if (p === undefined) return fn();
  enterProcess(sim, p);
  emit(sim, { code: 'process', pid });
  try {
    return fn();
  } finally {
    enterProcess(sim, prev);
    emit(sim, { code: 'process', pid: prev.pid });
  }
}
