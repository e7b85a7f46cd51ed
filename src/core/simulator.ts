/**
 * DOC: Simulator — one deterministic step per trace event
 *
 * `Simulator.step(event)` applies one event to the modelled machine and returns what the kernel
 * decided, as typed records. It is a pure function of (state, event): no I/O, no host clock, no
 * randomness, no dependence on Map iteration order beyond insertion order. `snapshot()` returns
 * the final ranges, VRAM use and GT stats.
 *
 * Each event runs in its process (`pid`, default 1): the process's own mm and Xe VM, the shared
 * VRAM pool and GTs (processes.ts).
 *
 * Event → kernel entry point:
 *   mmap / munmap / mprotect / madvise → mm (MMU notifiers → xe_svm_invalidate; GC after munmap)
 *   cpu_read / cpu_write              → CPU page faults (migrate_to_ram on device pages)
 *   gpu_read / gpu_write / gpu_atomic → hardware check, then handle_pagefault per faulting page
 *   gpu_fault                         → handle_pagefault, always
 *   xe_prefetch / xe_madvise          → the ioctls (kernels that have them)
 */

import { CostModel } from './cost-model.js';
import { SimClock, emit, kernelFlags, type SimContext } from './context.js';
import type { Decision, Errno, EventResult, Location } from './decisions.js';
import { rangeLocation } from './drm-gpusvm/pages.js';
import { drmPagemapPagemapOps } from './drm-pagemap/migrate.js';
import { DrmPagemap } from './drm-pagemap/pagemap.js';
import type { CoreEvent, GpuAccess } from './events.js';
import { ModelInvariantError } from './invariant.js';
import { DEFAULT_THRASH, newMetrics, type Metrics, type ThrashOptions, type Thrashing } from './metrics.js';
import { checkInvariants } from './invariants.js';
import { cpuAccess, cpuPagePresent, doMadviseDontneed, doMmap, doMprotect, doMunmap, splitsHugetlb } from './mm/mm.js';
import { kernelAtLeast, type Platform } from './platform.js';
import { xeGpusvmOps } from './xe-svm/range.js';
import { gpuAccessHits, handlePagefault } from './xe-svm/fault.js';
import { xeSvmGarbageCollector } from './xe-svm/gc.js';
import { xeVmMadvise, xeVmPrefetch } from './xe-svm/ioctl.js';
import { xeDrmPagemapOps, xeSvmDevmemOps } from './xe-svm/migrate.js';
import { enterProcess, SimProcess } from './processes.js';
import { TileStats, type StatName } from './xe-gt-stats.js';

interface RangeState {
  start: number;
  end: number;
  location: Location;
  valid: boolean;
  createdSeq: number;
  /** Owning process, when the trace has more than one. */
  pid?: number;
}

/** One process's share of the work (traces with several processes). */
interface ProcessState {
  pid: number;
  asid: number;
  metrics: Metrics;
  /** VRAM held by the process's BOs at the end. */
  vramBytes: bigint;
  bos: number;
  /** Its BOs evicted by TTM (by any process's allocation). */
  evictionsSuffered: number;
  /** Evictions its own allocations forced. */
  evictionsCaused: number;
  ranges: number;
}

export interface FinalState {
  /** Sums over all processes. */
  metrics: Metrics;
  thrashing: Thrashing[];
  ranges: RangeState[];
  vram: { capacity: bigint; used: bigint; bos: number };
  stats: { gt: number; counters: [StatName, number][] }[];
  /** Per-process breakdown, by pid; only for traces with several processes. */
  perPid?: ProcessState[];
}

export interface SimulatorOptions {
  /** Check every model invariant after each event (the simulator's WARN_ONs). */
  checkInvariants?: boolean;
  /**
   * Record decisions (default true). Without a reader for them (debugfs, summaries) the replay
   * skips the records of the hot paths; outcomes and stats are identical.
   */
  record?: boolean;
  /** Thrashing detection threshold and window. */
  thrash?: ThrashOptions;
  /** CONFIG_DRM_XE_DEBUG_VM: also record the kernel's vm_dbg print points (xe-svm/debug.ts). Default false. */
  debugVm?: boolean;
}

/** Kernel version that introduced each ioctl op. */
const OP_SINCE: Partial<Record<CoreEvent['op'], Platform['kernel']>> = {
  xe_prefetch: '6.17',
  xe_madvise: '6.18',
};

export class Simulator {
  private readonly sim: SimContext;
  private seq = 0;
  private readonly scratch: EventResult = { seq: 0, op: '', t: 0, outcome: 'ok', decisions: [] };
  /** Ops the chosen kernel lacks. */
  private readonly available: Set<CoreEvent['op']>;
  /** Counter values after the previous event, for the "counters never decrease" invariant. */
  private lastCounters?: number[][];

  constructor(
    readonly platform: Platform,
    private readonly opts: SimulatorOptions = {},
  ) {
    const first = this.newProcess(1, 1);
    this.sim = {
      platform,
      kv: kernelFlags(platform),
      clock: new SimClock(platform.hz),
      proc: first,
      mm: first.mm,
      gpusvm: first.gpusvm,
      vm: first.vm,
      procs: new Map([[1, first]]),
      // The device's pagemap with Xe's callbacks (xe_pagemap_create(), xe_svm_devmem_ops).
      pagemap: new DrmPagemap(
        platform.dgfx ? Number(platform.vramBytes >> 12n) : 0,
        drmPagemapPagemapOps,
        xeSvmDevmemOps,
        xeDrmPagemapOps,
      ),
      stats: new TileStats(platform.kernel, platform.mediaGt),
      cost: new CostModel(platform.costModel),
      log: [],
      recording: (opts.record ?? true) || opts.debugVm === true,
      debugVm: opts.debugVm === true,
      seq: 0,
      metrics: first.metrics,
      thrash: first.thrash,
    };
    this.pid1Used = false;
    this.available = new Set(
      (Object.keys(OP_SINCE) as CoreEvent['op'][]).filter((op) => !kernelAtLeast(platform.kernel, OP_SINCE[op]!)),
    );
  }

  /** Whether an event of pid 1 was seen (process 1 exists from the start). */
  private pid1Used: boolean;

  /** A fresh process: its own mm and Xe VM (ASIDs are handed out in order of appearance). */
  private newProcess(pid: number, asid: number): SimProcess {
    return new SimProcess(pid, asid, this.platform, xeGpusvmOps, this.opts.thrash ?? DEFAULT_THRASH);
  }

  /** Make `pid` the current process, creating it at its first event. */
  private enter(pid: number): void {
    const sim = this.sim;
    let p = sim.procs.get(pid);
    if (p === undefined) {
      if (!this.pid1Used && sim.procs.size === 1 && sim.procs.has(1)) {
        // The trace does not use pid 1: the process made up front becomes this one.
        sim.procs.clear();
      }
      p = this.newProcess(pid, sim.procs.size + 1);
      sim.procs.set(pid, p);
    }
    enterProcess(sim, p);
  }

  /** Apply one event. */
  step(ev: CoreEvent): EventResult {
    const seq = this.seq++;
    const sim = this.sim;
    sim.seq = seq;
    const pid = ev.pid ?? 1;
    if (pid !== sim.proc.pid) this.enter(pid);
    if (pid === 1) this.pid1Used = true;
    sim.clock.advanceTo(ev.t);
    if (sim.recording) sim.log = [];
    let outcome: EventResult['outcome'] = 'ok';
    let errno: Errno | undefined;
    try {
      const r = this.dispatch(ev, seq);
      if (r === 'hit') outcome = 'hit';
      else if (r !== undefined) {
        outcome = 'error';
        errno = r;
      }
      if (this.opts.checkInvariants) {
        checkInvariants(sim);
        if (sim.proc.pid !== pid)
          throw new ModelInvariantError(`event of pid ${pid} left the context in pid ${sim.proc.pid}`);
        this.checkCountersMonotonic();
      }
    } catch (e) {
      if (e instanceof ModelInvariantError) e.seq = seq;
      throw e;
    }
    if (!sim.recording) {
      // Nobody keeps the result: reuse one object (valid until the next step()).
      const r = this.scratch;
      r.seq = seq;
      r.op = ev.op;
      r.t = sim.clock.now;
      r.outcome = outcome;
      r.decisions = sim.log;
      r.errno = errno; // (never `delete`: it would turn the reused object into a slow dictionary)
      return r;
    }
    const res: EventResult = { seq, op: ev.op, t: sim.clock.now, outcome, decisions: sim.log };
    if (errno !== undefined) res.errno = errno;
    return res;
  }

  /**
   * The event's kernel entry point. The cases are in the order of their frequency in real traces
   * (GPU accesses, then CPU accesses, then the rest): a switch on strings compares them one by
   * one, and this runs for every event.
   */
  private dispatch(ev: CoreEvent, seq: number): Errno | 'hit' | undefined {
    const sim = this.sim;
    switch (ev.op) {
      case 'gpu_read':
        return this.gpuAccess(ev, 'read', seq);
      case 'gpu_write':
        return this.gpuAccess(ev, 'write', seq);
      case 'cpu_read':
        // (one page already present: cpuAccess() would return at once; asked here, without a call)
        if (ev.npages <= 1 && cpuPagePresent(sim, ev.page, false)) return undefined;
        return cpuAccess(sim, ev.page, ev.page + Math.max(ev.npages, 1), false);
      case 'cpu_write':
        if (ev.npages <= 1 && cpuPagePresent(sim, ev.page, true)) return undefined;
        return cpuAccess(sim, ev.page, ev.page + Math.max(ev.npages, 1), true);
      case 'gpu_atomic':
        return this.gpuAccess(ev, 'atomic', seq);
      case 'gpu_fault':
        return handlePagefault(sim, ev.page, ev.access, seq);
      case 'mmap':
        if (ev.offset !== 0 || ev.npages === 0) return this.einval(ev.npages === 0 ? 'zero_length' : 'unaligned');
        return doMmap(sim, ev.page, ev.page + ev.npages, ev.prot, ev.kind);
      case 'munmap': {
        if (ev.offset !== 0 || ev.npages === 0) return this.einval(ev.npages === 0 ? 'zero_length' : 'unaligned');
        const start = ev.page;
        const end = ev.page + ev.npages;
        if (splitsHugetlb(sim, start, end)) return this.einval('unaligned');
        doMunmap(sim, start, end);
        if (sim.platform.gc === 'eager' && sim.vm.gcList.length > 0) xeSvmGarbageCollector(sim);
        return undefined;
      }
      case 'mprotect':
        if (ev.offset !== 0) return this.einval('unaligned');
        if (ev.npages === 0) return undefined;
        return doMprotect(sim, ev.page, ev.page + ev.npages, ev.prot);
      case 'madvise':
        if (ev.offset !== 0) return this.einval('unaligned');
        if (ev.npages === 0) return undefined;
        return doMadviseDontneed(sim, ev.page, ev.page + ev.npages);
      case 'xe_prefetch':
        // Only the xe ioctls can be missing from a kernel.
        if (this.available.has(ev.op)) return this.lacksOp(ev.op);
        if (ev.offset !== 0 || !ev.sizeAligned || ev.npages === 0)
          return this.einval(ev.npages === 0 ? 'zero_length' : 'unaligned');
        if (ev.region === 'advised' && !sim.kv.v618) {
          emit(sim, { code: 'kernel_lacks_op', op: 'xe_prefetch region=advised', since: '6.18' });
          return 'EINVAL';
        }
        if (sim.platform.gc === 'lazy' && sim.vm.gcList.length > 0) xeSvmGarbageCollector(sim);
        return xeVmPrefetch(sim, ev.page, ev.page + ev.npages, ev.region, seq);
      case 'xe_madvise': {
        if (this.available.has(ev.op)) return this.lacksOp(ev.op);
        if (ev.offset !== 0 || !ev.sizeAligned || ev.npages === 0)
          return this.einval(ev.npages === 0 ? 'zero_length' : 'unaligned');
        // xe_svm_flush(): the GC worker is flushed first.
        if (sim.vm.gcList.length > 0) xeSvmGarbageCollector(sim);
        const start = ev.page;
        const end = ev.page + ev.npages;
        if (ev.preferred !== undefined) return xeVmMadvise(sim, start, end, { preferred: ev.preferred });
        if (ev.atomic !== undefined) return xeVmMadvise(sim, start, end, { atomic: ev.atomic });
        return this.einval('zero_length');
      }
    }
  }

  /** An ioctl the chosen kernel does not have. */
  private lacksOp(op: CoreEvent['op']): Errno {
    emit(this.sim, { code: 'kernel_lacks_op', op, since: OP_SINCE[op]! });
    return 'EINVAL';
  }

  private einval(reason: Extract<Decision, { code: 'syscall_einval' }>['reason']): Errno {
    emit(this.sim, { code: 'syscall_einval', reason });
    return 'EINVAL';
  }

  private checkCountersMonotonic(): void {
    const now = this.sim.stats.gts.map((g) => g.entries().map(([, v]) => v));
    const prev = this.lastCounters;
    if (prev !== undefined) {
      now.forEach((vals, g) => {
        vals.forEach((v, i) => {
          if (v < prev[g][i])
            throw new ModelInvariantError(`gt${g} counter ${this.sim.stats.gts[g].entries()[i][0]} decreased`);
        });
      });
    }
    this.lastCounters = now;
  }

  /**
   * A GPU access of the event's [page, page + max(npages, 1)): each page either hits a valid
   * mapping or faults. (It takes the event, not the page numbers: pages are ≥ 2^31, doubles that a
   * call would box.) The common case — the first page hits a range that covers the whole access —
   * returns here; the rest is gpuAccessRest(). (In one loop, the page cursor merged the event's
   * page with a range's bound and was boxed on every call: 16 bytes a GPU access.)
   */
  private gpuAccess(ev: CoreEvent, access: GpuAccess, seq: number): Errno | 'hit' | undefined {
    const sim = this.sim;
    const hit = gpuAccessHits(sim, ev.page, access);
    if (hit !== undefined) {
      if (sim.recording)
        emit(sim, { code: 'gpu_hit', range: hit.ref(), location: hit.hasDevmemPages ? 'vram' : 'smem' });
      if (sim.gpusvm.lastHitEnd >= ev.page + Math.max(ev.npages, 1)) return 'hit';
    }
    return this.gpuAccessRest(ev, access, seq, hit !== undefined);
  }

  /**
   * gpuAccess() after its first lookup: from the end of the range the first page hit
   * (`firstHit`), or faulting on the first page.
   */
  private gpuAccessRest(ev: CoreEvent, access: GpuAccess, seq: number, firstHit: boolean): Errno | 'hit' | undefined {
    const sim = this.sim;
    const end = ev.page + Math.max(ev.npages, 1);
    let faulted = false;
    let replays = 0;
    // gpuAccessHits() made the hit range the cache's entry
    let p = firstHit ? sim.gpusvm.lastHitEnd : ev.page;
    // whether page p is still to look up (gpuAccess() looked up the first)
    let lookup = firstHit;
    while (p < end) {
      if (lookup) {
        const hit = gpuAccessHits(sim, p, access);
        if (hit !== undefined) {
          if (sim.recording)
            emit(sim, { code: 'gpu_hit', range: hit.ref(), location: hit.hasDevmemPages ? 'vram' : 'smem' });
          p = sim.gpusvm.lastHitEnd; // gpuAccessHits() made `hit` the cache's entry
          continue;
        }
      }
      lookup = true;
      faulted = true;
      const err = handlePagefault(sim, p, access, seq);
      if (err !== undefined) return err;
      // The range just bound is the lookup cache's entry (a valid cached range containing p is
      // what rangeAt(p) would find: removed ranges are never valid).
      const gs = sim.gpusvm;
      const last = gs.lastHit;
      const r = last?.valid && gs.lastHitStart <= p && p < gs.lastHitEnd ? last : gs.rangeAt(p);
      if (r === undefined || !r.valid) {
        // 6.18.y: the fault was acked without a bind; the GPU replays the access and faults again.
        if (!sim.platform.faultExitReturnsZero)
          throw new ModelInvariantError(`fault at page ${p} succeeded without a valid range`);
        if (++replays >= sim.platform.livelockBound) {
          emit(sim, { code: 'livelock', loop: 'gpu_replay', iterations: replays });
          return 'LIVELOCK';
        }
        emit(sim, { code: 'gpu_replay', page: p, replays });
        continue;
      }
      replays = 0;
      p = r.end;
    }
    return faulted ? undefined : 'hit';
  }

  /**
   * Final state: ranges by (pid and) start, VRAM use, counters of every GT in kernel order, and a
   * per-process breakdown for traces with several processes.
   */
  snapshot(): FinalState {
    const sim = this.sim;
    const cur = sim.proc;
    const procs = [...sim.procs.values()].sort((a, b) => a.pid - b.pid);
    const multi = procs.length > 1;
    const ranges: RangeState[] = [];
    const metrics = newMetrics();
    const thrashing: Thrashing[] = [];
    for (const p of procs) {
      enterProcess(sim, p);
      for (const r of p.gpusvm.allRanges()) {
        const rs: RangeState = {
          start: r.start,
          end: r.end,
          location: rangeLocation(sim, r),
          valid: r.valid,
          createdSeq: r.createdSeq,
        };
        if (multi) rs.pid = p.pid;
        ranges.push(rs);
      }
      for (const k of Object.keys(metrics) as (keyof Metrics)[]) metrics[k] += p.metrics[k];
      for (const t of p.thrash.verdicts()) thrashing.push(multi ? { ...t, pid: p.pid } : t);
    }
    enterProcess(sim, cur);
    const out: FinalState = {
      metrics,
      thrashing,
      ranges,
      vram: {
        capacity: BigInt(sim.pagemap.capacityPages) << 12n,
        used: BigInt(sim.pagemap.usedPages) << 12n,
        bos: sim.pagemap.size,
      },
      stats: sim.stats.gts.map((g) => ({ gt: g.gt, counters: g.entries() })),
    };
    if (multi) {
      const held = new Map<number, { pages: number; bos: number }>();
      const pm = sim.pagemap;
      for (const bo of pm.values()) {
        const pid = pm.boPid[bo];
        const h = held.get(pid) ?? { pages: 0, bos: 0 };
        h.pages += pm.boNpages[bo];
        h.bos++;
        held.set(pid, h);
      }
      out.perPid = procs.map((p) => ({
        pid: p.pid,
        asid: p.asid,
        metrics: { ...p.metrics },
        vramBytes: BigInt(held.get(p.pid)?.pages ?? 0) << 12n,
        bos: held.get(p.pid)?.bos ?? 0,
        evictionsSuffered: p.metrics.evictions,
        evictionsCaused: p.evictionsCaused,
        ranges: ranges.filter((r) => r.pid === p.pid).length,
      }));
    }
    return out;
  }

  /** Number of events stepped so far. */
  get eventsReplayed(): number {
    return this.seq;
  }

  /** The simulated time now (ns). */
  get now(): number {
    return this.sim.clock.now;
  }

  /** For tests: the live context. */
  get context(): SimContext {
    return this.sim;
  }
}
