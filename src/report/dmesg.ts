/**
 * DOC: `replay --format dmesg` — the lines a CONFIG_DRM_XE_DEBUG_VM kernel prints
 *
 * A kernel built with CONFIG_DRM_XE_DEBUG_VM=y and booted with drm.debug=0x2 (DRM_UT_DRIVER)
 * prints `vm_dbg()` lines on the SVM path. The model records the print points (decision codes
 * range_debug, invalidate_debug, copy_debug, svm_dbg; src/core/xe-svm/debug.ts); this module
 * decides, per kernel version, which of them that kernel has and formats them exactly as
 * drm_print.c does:
 *
 *   drm_dbg  → dev_printk(KERN_DEBUG, dev, "[drm:%ps] %pV")  `xe 0000:03:00.0: [drm:FUNCTION [xe]] MSG`
 *   drm_info → dev_info(dev, "[drm] " fmt)                   `xe 0000:03:00.0: [drm] MSG`
 *   drm_err  → dev_err(dev, "[drm] *ERROR* " fmt)            `xe 0000:03:00.0: [drm] *ERROR* MSG`
 *
 * behind the printk time stamp `[%5lu.%06lu] ` taken from the trace time. FUNCTION is the
 * function that calls vm_dbg() in the source; a real kernel prints the symbol of the return
 * address (%ps), which is the enclosing non-inlined function, so a static helper inlined by the
 * compiler shows its caller. `svmsim validate` never compares FUNCTION, pointers, seqnos,
 * physical addresses or time stamps.
 *
 * Pointers and the PCI address are placeholders (flags --dmesg-asid, --dmesg-gpusvm, --dmesg-pci);
 * the COPY lines' physical addresses are placeholders too (DMA address = the user virtual address,
 * VRAM address = BO number × 2 MiB + offset).
 *
 * Everything that differs per version lives in DMESG_PROFILES: a new kernel profile is one line.
 */

import type { Decision, Errno, NotifierEvent, RangeDebugLabel, SvmDbgMessage } from '../core/decisions.js';
import type { KernelVersion, Platform } from '../core/platform.js';
import type { FinalState } from '../core/simulator.js';
import type { EventResult } from '../core/decisions.js';
import type { EventEcho, Reporter, Sink } from './reporter.js';
import { numberText } from './format.js';

/** How a line is printed: drm_dbg (with the calling function), drm_info, drm_err. */
type PrintLevel = 'dbg' | 'info' | 'err';

/** What one kernel version prints on the SVM path. */
export interface DmesgProfile {
  /** range_debug labels this kernel has. */
  rangeLabels: ReadonlySet<RangeDebugLabel>;
  /** drm_dbg / drm_info / drm_err messages this kernel has, with their level. */
  messages: Partial<Record<SvmDbgMessage, PrintLevel>>;
  /** The function calling vm_dbg() / drm_dbg(), per print site (a label, 'INVALIDATE', 'COPY', or a message). */
  fn: (site: RangeDebugLabel | 'INVALIDATE' | 'COPY' | SvmDbgMessage) => string;
}

const FAULT_LABELS: RangeDebugLabel[] = [
  'PAGE FAULT',
  'ALLOCATE VRAM',
  'GET PAGES',
  'PAGE FAULT - EVICT PAGES',
  'PAGE FAULT - RETRY PAGES',
  'PAGE FAULT - FAIL PAGE COLLECT',
  'PAGE FAULT - BIND',
  'PAGE FAULT - RETRY BIND',
  'NOTIFIER',
  'NOTIFIER - EXECUTE',
  'GARBAGE COLLECTOR ADD',
  'GARBAGE COLLECTOR',
];
const PREFETCH_LABELS: RangeDebugLabel[] = [
  'PREFETCH - RANGE IS VALID',
  'PREFETCH - RANGE CREATED',
  'PREFETCH - RANGE MIGRATED TO VRAM',
  'PREFETCH - RANGE GET PAGES DONE',
];

/** Every range_debug label, in the order of xe_svm.c then xe_vm.c. */
export const RANGE_DEBUG_LABELS: readonly RangeDebugLabel[] = [
  ...FAULT_LABELS.slice(0, 1),
  'PAGE FAULT - VALID',
  ...FAULT_LABELS.slice(1),
  ...PREFETCH_LABELS,
];

/** Print sites by calling function, for kernels whose handler is `handler` and whose EVICT PAGES comes from `evict`. */
function sites(handler: string, evict: string): DmesgProfile['fn'] {
  return (site) => {
    switch (site) {
      case 'ALLOCATE VRAM':
        return 'xe_svm_alloc_vram';
      case 'PAGE FAULT - EVICT PAGES':
        return evict;
      case 'NOTIFIER':
      case 'NOTIFIER - EXECUTE':
        return 'xe_svm_range_notifier_event_begin';
      case 'GARBAGE COLLECTOR ADD':
        return 'xe_svm_garbage_collector_add_range';
      case 'GARBAGE COLLECTOR':
        return '__xe_svm_garbage_collector';
      case 'INVALIDATE':
        return 'xe_svm_invalidate';
      case 'COPY':
        return 'xe_svm_copy';
      case 'range_in_vram':
      case 'no_4k_migration':
        return 'xe_svm_range_needs_migrate_to_vram';
      case 'prefetch_vram_failed':
      case 'prefetch_get_pages_failed':
        return 'prefetch_ranges';
      default:
        // xe_vm.c prints the PREFETCH labels through the exported xe_svm_range_debug().
        return site.startsWith('PREFETCH') ? 'xe_svm_range_debug' : handler;
    }
  };
}

const FAULT_MESSAGES: DmesgProfile['messages'] = {
  vram_alloc_retry: 'dbg',
  vram_alloc_exceeded: 'err',
  get_pages_retry: 'dbg',
  get_pages_exceeded: 'err',
  range_in_vram: 'dbg',
  no_4k_migration: 'dbg',
};
const PREFETCH_MESSAGES: DmesgProfile['messages'] = { prefetch_vram_failed: 'dbg', prefetch_get_pages_failed: 'dbg' };

/** 6.15-rc1: migrate once, retries without a count: no "retry count exceeded", no needs_migrate messages. */
const V615RC1: DmesgProfile = {
  rangeLabels: new Set(FAULT_LABELS),
  messages: { vram_alloc_retry: 'dbg', get_pages_retry: 'dbg' },
  fn: sites('xe_svm_handle_pagefault', 'xe_svm_handle_pagefault'),
};
/** 6.15, 6.16: silent on a valid fault; EVICT PAGES printed by the handler, only when it retries. */
const V615: DmesgProfile = { ...V615RC1, messages: FAULT_MESSAGES };
/** 6.17: EVICT PAGES from xe_svm_range_get_pages(); prefetch labels; "Range is already in VRAM" at info level. */
const V617: DmesgProfile = {
  rangeLabels: new Set([...FAULT_LABELS, ...PREFETCH_LABELS]),
  messages: { ...FAULT_MESSAGES, ...PREFETCH_MESSAGES, range_in_vram: 'info' },
  fn: sites('xe_svm_handle_pagefault', 'xe_svm_range_get_pages'),
};
/** 6.18: PAGE FAULT - VALID; the handler body is __xe_svm_handle_pagefault(). */
const V618: DmesgProfile = {
  ...V617,
  rangeLabels: new Set([...V617.rangeLabels, 'PAGE FAULT - VALID']),
  fn: sites('__xe_svm_handle_pagefault', 'xe_svm_range_get_pages'),
};

/** Per kernel profile: a new profile is one line (6.18.y: the 6.18.10 source prints "Range is already in VRAM" with drm_dbg). */
export const DMESG_PROFILES: Record<KernelVersion, DmesgProfile> = {
  '6.15-rc1': V615RC1,
  '6.15': V615,
  '6.16': V615,
  '6.17': V617,
  '6.18': V618,
  '6.18.y': { ...V618, messages: { ...V618.messages, range_in_vram: 'dbg' } }, // 6.18.10: drm_dbg again
};

/** enum mmu_notifier_event (include/linux/mmu_notifier.h). */
export const MMU_NOTIFY: Record<NotifierEvent, number> = { UNMAP: 0, CLEAR: 1, PROTECTION_VMA: 2, MIGRATE: 6 };

/** The message text of each drm_dbg / drm_info / drm_err, up to its variable part: the label validate compares. */
export const MESSAGE_LABELS: Record<SvmDbgMessage, string> = {
  vram_alloc_retry: 'VRAM allocation failed, falling back to retrying fault',
  vram_alloc_exceeded: 'VRAM allocation failed, retry count exceeded',
  get_pages_retry: 'Get pages failed, falling back to retrying',
  get_pages_exceeded: 'Get pages failed, retry count exceeded',
  range_in_vram: 'Range is already in VRAM',
  no_4k_migration: "Platform doesn't support SZ_4K range migration",
  prefetch_vram_failed: 'VRAM allocation failed, retry from userspace',
  prefetch_get_pages_failed: 'Get pages failed',
};

/** Messages whose format continues after the label: which arguments follow. */
const MESSAGE_ARGS: Partial<Record<SvmDbgMessage, 'asid' | 'asid_gpusvm'>> = {
  vram_alloc_retry: 'asid',
  vram_alloc_exceeded: 'asid',
  get_pages_retry: 'asid_gpusvm',
  get_pages_exceeded: 'asid_gpusvm',
  prefetch_vram_failed: 'asid_gpusvm',
  prefetch_get_pages_failed: 'asid_gpusvm',
};

/** What the deterministic placeholders are set to. */
export interface DmesgOptions {
  /** vm->usm.asid. Default 1 (the first VM of a process). */
  asid: number;
  /** %p of the gpusvm (hashed pointers print as 16 hex digits). Default 00000000deadbeef. */
  gpusvm: string;
  /** PCI address of the card. Default 0000:03:00.0. */
  pci: string;
}

export const DEFAULT_DMESG: DmesgOptions = { asid: 1, gpusvm: '00000000deadbeef', pci: '0000:03:00.0' };

/** LONG_MAX as %lu: range_debug's seqno before the first successful get_pages. */
const LONG_MAX = '9223372036854775807';

/** A byte address from a page index, as %0Nlx (pages are < 2^52: hex of the page plus three zeros is exact). */
function hexBytes(page: number, width: number): string {
  const h = page === 0 ? '0' : page.toString(16) + '000';
  return h.length >= width ? h : ZEROS.slice(0, width - h.length) + h;
}
const ZEROS = '0000000000000000';

/** printk time stamp `[%5lu.%06lu]` of trace time `ns`. */
export function printkTime(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns - s * 1e9) / 1e3);
  const ss = numberText(s);
  const uss = numberText(us);
  return `[${ss.length < 5 ? ' '.repeat(5 - ss.length) + ss : ss}.${'000000'.slice(uss.length)}${uss}]`;
}

/** The label of a print-point record on kernel `profile`, or undefined when that kernel does not print it. */
export function dmesgLabel(d: Decision, profile: DmesgProfile): string | undefined {
  switch (d.code) {
    case 'range_debug':
      return profile.rangeLabels.has(d.label) ? d.label : undefined;
    case 'invalidate_debug':
      return 'INVALIDATE';
    case 'copy_debug':
      return d.toVram ? 'COPY TO VRAM' : 'COPY TO SRAM';
    case 'svm_dbg':
      return profile.messages[d.msg] !== undefined ? MESSAGE_LABELS[d.msg] : undefined;
    default:
      return undefined;
  }
}

const errname = (e: Errno | undefined) => `-${e ?? 'EINVAL'}`;

/** Formats print-point records as kernel log lines. */
export class DmesgFormatter {
  private readonly dev: string;

  constructor(
    readonly profile: DmesgProfile,
    readonly opts: DmesgOptions = DEFAULT_DMESG,
  ) {
    this.dev = `xe ${opts.pci}: `;
  }

  /** The whole log line for a record at trace time `ns`, or undefined when this kernel prints nothing for it. */
  line(d: Decision, ns: number, asid = this.opts.asid): string | undefined {
    const o = asid === this.opts.asid ? this.opts : { ...this.opts, asid };
    const p = this.profile;
    let level: PrintLevel = 'dbg';
    let site: Parameters<DmesgProfile['fn']>[0];
    let msg: string;
    switch (d.code) {
      case 'range_debug':
        if (!p.rangeLabels.has(d.label)) return undefined;
        site = d.label;
        msg =
          `${d.label}: asid=${numberText(o.asid)}, gpusvm=${o.gpusvm}, vram=${numberText(d.vram[0])},${numberText(d.vram[1])}, seqno=${d.seqno < 0 ? LONG_MAX : numberText(d.seqno)}, ` +
          `start=0x${hexBytes(d.range.start, 14)}, end=0x${hexBytes(d.range.end, 14)}, size=${numberText((d.range.end - d.range.start) * 4096)}`;
        break;
      case 'invalidate_debug':
        site = 'INVALIDATE';
        msg = `INVALIDATE: asid=${numberText(o.asid)}, gpusvm=${o.gpusvm}, seqno=${numberText(d.seqno)}, start=0x${hexBytes(d.start, 16)}, end=0x${hexBytes(d.end, 16)}, event=${MMU_NOTIFY[d.event]}`;
        break;
      case 'copy_debug': {
        site = 'COPY';
        const sram = hexBytes(d.page, 16);
        const vram = hexBytes(d.bo * 512 + d.boPage, 16);
        msg = d.toVram
          ? `COPY TO VRAM - 0x${sram} -> 0x${vram}, NPAGES=${numberText(d.npages)}`
          : `COPY TO SRAM - 0x${vram} -> 0x${sram}, NPAGES=${numberText(d.npages)}`;
        break;
      }
      case 'svm_dbg': {
        const lv = p.messages[d.msg];
        if (lv === undefined) return undefined;
        level = lv;
        site = d.msg;
        const args = MESSAGE_ARGS[d.msg];
        msg =
          MESSAGE_LABELS[d.msg] +
          (args === 'asid'
            ? `, asid=${numberText(o.asid)}, errno=${errname(d.errno)}`
            : args === 'asid_gpusvm'
              ? `, asid=${numberText(o.asid)}, gpusvm=${o.gpusvm}, errno=${errname(d.errno)}`
              : '');
        break;
      }
      default:
        return undefined;
    }
    const where = level === 'dbg' ? `[drm:${p.fn(site)} [xe]] ` : level === 'err' ? '[drm] *ERROR* ' : '[drm] ';
    return `${printkTime(ns)} ${this.dev}${where}${msg}`;
  }
}

/**
 * Calls `each(decision, ns)` for every decision of an event with the trace time the kernel would
 * print it at: the event's time, moved on by a timeslice wait inside the event.
 */
function forEachTimed(t: number, res: EventResult, each: (d: Decision, ns: number) => void): void {
  let ns = t;
  for (const d of res.decisions) {
    if (d.code === 'timeslice_wait') ns = d.untilNs;
    each(d, ns);
  }
}

/**
 * vm->usm.asid of each process's VM, as a log shows them: the first process's VM has the
 * --dmesg-asid number, the others follow in the order the processes first appear (as the
 * simulator numbers its VMs). `at()` follows an event's records: a `process` record (BO eviction
 * crossing processes) switches to the victim's VM.
 */
export class AsidTracker {
  private readonly asids = new Map<number, number>();
  constructor(private readonly base: number) {}
  of(pid: number): number {
    let a = this.asids.get(pid);
    if (a === undefined) this.asids.set(pid, (a = this.base + this.asids.size));
    return a;
  }
}

/** Streams the kernel log lines of a replay, one event at a time. */
export class DmesgReporter implements Reporter {
  readonly wantsEvents = true;
  readonly wantsDebugVm = true;
  private fmt?: DmesgFormatter;
  private asids?: AsidTracker;

  constructor(
    private readonly write: Sink,
    private readonly opts: DmesgOptions = DEFAULT_DMESG,
  ) {}

  begin(platform: Platform): void {
    this.fmt = new DmesgFormatter(DMESG_PROFILES[platform.kernel], this.opts);
    this.asids = new AsidTracker(this.opts.asid);
  }

  event(echo: EventEcho, res: EventResult): void {
    const fmt = this.fmt!;
    let out = '';
    const asids = this.asids!;
    let asid = asids.of(echo.pid ?? 1);
    forEachTimed(echo.t, res, (d, ns) => {
      // BO eviction crossing processes: the following records happen in the victim's VM.
      if (d.code === 'process') asid = asids.of(d.pid);
      const l = fmt.line(d, ns, asid);
      if (l !== undefined) out += l + '\n';
    });
    if (out !== '') this.write(out);
  }

  end(_final: FinalState): void {}
}
