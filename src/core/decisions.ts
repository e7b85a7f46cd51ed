/**
 * DOC: Decision records
 *
 * Every handler returns what it decided as typed records: a `code` plus arguments, in the order
 * the kernel took the steps. No wording lives here; src/report/ turns codes into text. Addresses
 * are 4K page indices (`start`, `end` exclusive); sizes are in pages unless named `bytes`.
 */

import type { GpuAccess } from './events.js';

export type Errno =
  | 'EINVAL'
  | 'ENOENT'
  | 'EPERM'
  | 'EACCES'
  | 'EFAULT'
  | 'EBUSY'
  | 'ENOMEM'
  | 'ENOSPC'
  | 'EOPNOTSUPP'
  | 'ENODATA'
  | 'EAGAIN'
  | 'SIGSEGV'
  | 'LIVELOCK';

/** Why drm_gpusvm_range_chunk_size() rejected a larger chunk. */
export type ChunkReject =
  | 'cpu_vma' // candidate leaves the CPU VMA
  | 'notifier' // candidate leaves the notifier interval
  | 'gpu_vma' // candidate leaves the mirror GPU VMA
  | 'overlap' // an existing range overlaps the candidate
  | 'check_pages'; // drm_gpusvm_check_pages(): not every page CPU-present

/** Why the fault handler did not migrate a range to VRAM. */
export type NoMigrateReason =
  | 'has_devmem_pages' // already in VRAM
  | 'not_migratable' // migrate_devmem == 0 (not anonymous, hugetlb, iGPU)
  | 'not_preferred' // preferred location is system (6.18 madvise) or no devmem
  | 'need64k' // range smaller than 64K on a NEED64K platform
  | 'tries_exhausted' // migrate_try_count went below zero (retry after a failed attempt)
  | 'skip_migrate' // 6.15-rc1: range already migrated once
  | 'below_64k'; // 6.15-rc1: only ranges >= 64K migrate

/** Why a range cannot hold device pages (migrate_devmem = 0), in kernel terms. */
export type NotMigratableCause =
  | 'shmem' // MAP_SHARED|MAP_ANONYMOUS: shmem, not vma_is_anonymous()
  | 'file' // file mapping: not vma_is_anonymous()
  | 'hugetlb' // is_vm_hugetlb_page()
  | 'igpu' // devmem_possible = 0: integrated GPU (!IS_DGFX), no VRAM
  | 'no_pagemap'; // devmem_possible = 0: CONFIG_DRM_XE_PAGEMAP off

/** The policy that made the fault handler (or prefetch) migrate a range to VRAM. */
export type MigrateReason =
  | 'preferred_device' // ≥6.18: the VMA's preferred location is the device (first fault / not in VRAM)
  | 'default_policy' // 6.15-6.17: every invalid fault on DGFX prefers VRAM
  | 'devmem_only' // atomic fault that needs VRAM (xe_vma_need_vram_for_atomic)
  | 'migrate_once' // 6.15-rc1: first fault of a range >= 64K (skip_migrate not yet set)
  | 'always_migrate_to_vram' // 6.15-rc1 with the always_migrate_to_vram module parameter
  | 'prefetch'; // DRM_XE_VM_BIND_OP_PREFETCH to VRAM

/** Why a migration to VRAM failed, in kernel terms. */
export type MigrateFailCause =
  | 'vram_full' // TTM could not make room for the BO (after evicting)
  | 'no_cpu_vma' // vma_lookup() found nothing: -ENOENT
  | 'spans_cpu_vmas' // the range crosses a CPU VMA boundary (mprotect split it): -EINVAL
  | 'not_anonymous' // the CPU VMA is not anonymous: -EBUSY
  | 'all_device_private' // every page already device-private: migrate_vma collects nothing (cpages 0): -EFAULT
  | 'partly_device_private'; // some pages device-private: cpages != npages: -EBUSY

/** Why get_pages failed, in kernel terms. */
export type GetPagesFailCause =
  | 'no_cpu_vma' // hmm walk hit a hole: -EFAULT
  | 'prot_none' // hmm walk hit a PROT_NONE CPU VMA: -EFAULT
  | 'read_only' // write-faulting hmm walk hit a CPU VMA without VM_WRITE: -EPERM
  | 'unmapped' // the range was unmapped meanwhile: -EFAULT
  | 'mixed_bo' // device pages of two allocations: -EOPNOTSUPP
  | 'mixed_placement' // system and device pages in one range: -EOPNOTSUPP
  | 'smem_devmem_only'; // a system page while the fault demands device memory: -EFAULT

export type NotifierEvent = 'UNMAP' | 'CLEAR' | 'PROTECTION_VMA' | 'MIGRATE';

/** Labels of the CONFIG_DRM_XE_DEBUG_VM range_debug() prints (xe_svm.c, xe_vm.c prefetch). */
export type RangeDebugLabel =
  | 'PAGE FAULT'
  | 'PAGE FAULT - VALID'
  | 'ALLOCATE VRAM'
  | 'GET PAGES'
  | 'PAGE FAULT - EVICT PAGES'
  | 'PAGE FAULT - RETRY PAGES'
  | 'PAGE FAULT - FAIL PAGE COLLECT'
  | 'PAGE FAULT - BIND'
  | 'PAGE FAULT - RETRY BIND'
  | 'NOTIFIER'
  | 'NOTIFIER - EXECUTE'
  | 'GARBAGE COLLECTOR ADD'
  | 'GARBAGE COLLECTOR'
  | 'PREFETCH - RANGE IS VALID'
  | 'PREFETCH - RANGE CREATED'
  | 'PREFETCH - RANGE MIGRATED TO VRAM'
  | 'PREFETCH - RANGE GET PAGES DONE';

/** The drm_dbg / drm_info / drm_err messages of the SVM path (fault handler, needs_migrate, prefetch). */
export type SvmDbgMessage =
  | 'vram_alloc_retry' // VRAM allocation failed, falling back to retrying fault
  | 'vram_alloc_exceeded' // VRAM allocation failed, retry count exceeded
  | 'get_pages_retry' // Get pages failed, falling back to retrying
  | 'get_pages_exceeded' // Get pages failed, retry count exceeded
  | 'range_in_vram' // Range is already in VRAM
  | 'no_4k_migration' // Platform doesn't support SZ_4K range migration
  | 'prefetch_vram_failed' // VRAM allocation failed, retry from userspace
  | 'prefetch_get_pages_failed'; // Get pages failed (prefetch)

/** Where a range's pages are. */
export type Location = 'vram' | 'smem' | 'mixed';

export interface RangeRef {
  start: number;
  end: number;
}

/**
 * The RangeRef the model builds for its records (ranges and notifiers: `ref()`): exactly the
 * keys start and end, in that order, never written after construction (the JSON writer of
 * src/report trusts that of a Span and checks the keys of any other span).
 */
export class Span implements RangeRef {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}
}

export type Decision =
  // ---- mm (CPU side) ----
  | { code: 'vma_map'; start: number; end: number; prot: string; kind: string; merged: boolean }
  | { code: 'vma_unmap'; start: number; end: number; pagesFreed: number; devicePagesFreed: number }
  | { code: 'vma_protect'; start: number; end: number; prot: string; changed: boolean }
  | { code: 'vma_dontneed'; start: number; end: number; pagesFreed: number; devicePagesFreed: number }
  | { code: 'cpu_populate'; pages: number; zeroPages: number; cowPages: number }
  | { code: 'cpu_segv'; page: number; reason: 'no_vma' | 'prot' }
  | { code: 'syscall_einval'; reason: 'unaligned' | 'zero_length' | 'out_of_range' }
  /** mmap of a span reaching past TASK_SIZE (page number `taskSize`): -ENOMEM. */
  | { code: 'mmap_above_task_size'; start: number; end: number; taskSize: number }
  // ---- drm_pagemap: CPU fault on a device-private page ----
  | {
      code: 'timeslice_wait';
      bo: number;
      /** The BO's span (where its device pages are). */
      start: number;
      end: number;
      fromNs: number;
      untilNs: number;
      expiryJiffies: number;
      by: 'cpu' | 'evict' | 'get_pages';
    }
  | {
      code: 'migrate_to_ram';
      bo: number;
      start: number;
      end: number;
      pages: number;
      cause: 'cpu_fault' | 'range_evict' | 'bo_evict' | 'prefetch_smem' | 'get_pages';
    }
  | {
      code: 'bo_free';
      bo: number;
      start: number;
      end: number;
      bytes: bigint;
      cause: 'last_page_gone' | 'migration_failed';
    }
  | { code: 'bo_alloc'; bo: number; start: number; end: number; bytes: bigint }
  | { code: 'bo_evict'; bo: number; start: number; end: number; forRange: RangeRef; pid?: number }
  | { code: 'process'; pid: number } // the following decisions happen in process `pid` (BO eviction crossing processes)
  | { code: 'vram_alloc_failed'; bytes: bigint; free: bigint; errno: Errno }
  // ---- drm_gpusvm: notifier callbacks and GC ----
  | {
      code: 'invalidate';
      event: NotifierEvent;
      start: number;
      end: number;
      notifier: RangeRef;
      ranges: number;
      zapped: RangeRef[];
      tlbInval: boolean;
      unmapped: RangeRef[];
    }
  | { code: 'gc_range'; range: RangeRef; partialUnmap: boolean; unbound: boolean; tlbInval: boolean }
  | { code: 'notifier_remove'; notifier: RangeRef }
  | { code: 'notifier_create'; notifier: RangeRef }
  | { code: 'gpuvma_attr_reset'; start: number; end: number; split: boolean }
  // ---- xe_svm fault handler ----
  | { code: 'gpu_hit'; range: RangeRef; location: Location }
  | { code: 'no_gpu_vma'; page: number }
  | {
      code: 'fault';
      page: number;
      access: GpuAccess;
      devmemOnly: boolean;
      timesliceMs: number;
      tries: number;
      /** 6.18.y: device-private owner NULL (the VMA prefers system memory). Present only when true. */
      ownerNull?: boolean;
    }
  | { code: 'atomic_cpu_attr' } // 6.18: atomic attribute CPU → -EACCES before the handler
  | { code: 'range_error'; errno: Errno; reason: 'no_cpu_vma' | 'cpu_vma_readonly' | 'no_chunk' | 'out_of_mm' }
  | {
      code: 'range';
      range: RangeRef;
      created: boolean;
      rejected: { pages: number; reason: ChunkReject }[];
      migrateDevmem: boolean;
      /** For a created range with migrate_devmem = 0: why. */
      notMigratable?: NotMigratableCause;
    }
  | { code: 'not_migratable_atomic'; range: RangeRef; cause: NotMigratableCause }
  | { code: 'range_valid'; range: RangeRef }
  | { code: 'no_migrate'; range: RangeRef; reason: NoMigrateReason; cause?: NotMigratableCause }
  | {
      code: 'migrate_to_vram';
      range: RangeRef;
      bo: number;
      ok: boolean;
      errno?: Errno;
      copiedPages: number;
      timesliceMs: number;
      /** The policy that asked for the migration. */
      reason: MigrateReason;
      /** Why it failed (when !ok). */
      cause?: MigrateFailCause;
    }
  | {
      code: 'get_pages';
      range: RangeRef;
      ok: boolean;
      errno?: Errno;
      /** Why it failed (when !ok). */
      cause?: GetPagesFailCause;
      location?: Location;
      faultedIn: number;
    }
  | { code: 'migrate_failed_get_pages' } // 6.18.y: devmem_only migration failure with tries left → get_pages
  | { code: 'fault_acked_unbound'; range: RangeRef; errno: Errno } // 6.18.y: `out` returns 0 without a bind
  | { code: 'gpu_replay'; page: number; replays: number } // the GPU replays an access whose fault was acked unbound
  | {
      code: 'livelock';
      /** Which endless loop was cut: the handler's get_pages retry, the wrapper's VMA re-lookup, or GPU replays of acked faults. */
      loop: 'handler_retry' | 'vma_relookup' | 'gpu_replay';
      /** Iterations run before the cut (the platform's livelock_bound). */
      iterations: number;
    }
  | { code: 'range_evict'; range: RangeRef }
  | { code: 'bind'; range: RangeRef; location: Location; atomicEnable: boolean }
  | { code: 'retry'; reason: 'migrate_failed' | 'get_pages_failed' | 'vma_split'; timesliceMs: number }
  | { code: 'vma_relookup' }
  // ---- xe ioctls ----
  | { code: 'kernel_lacks_op'; op: string; since: string }
  | { code: 'prefetch_collect'; ranges: RangeRef[]; skipped: number }
  | { code: 'prefetch_hole'; page: number; next: number | null }
  | { code: 'madvise_split'; at: number }
  | { code: 'madvise_range_remove'; range: RangeRef; evicted: boolean; tlbInval: boolean }
  | { code: 'madvise_attr'; start: number; end: number; attr: 'preferred' | 'atomic'; from: string; to: string }
  | { code: 'madvise_zap'; zapped: RangeRef[]; tlbInval: boolean }
  // ---- CONFIG_DRM_XE_DEBUG_VM prints: only with SimulatorOptions.debugVm (src/core/xe-svm/debug.ts) ----
  /** vram = [has_devmem_pages, has VRAM binding]; seqno = range notifier_seq, -1 for LONG_MAX (never got pages). */
  | { code: 'range_debug'; label: RangeDebugLabel; range: RangeRef; vram: [number, number]; seqno: number }
  /** One xe_svm_invalidate() call: the mmu_notifier_range as given (not clipped) and the notifier's seq. */
  | { code: 'invalidate_debug'; event: NotifierEvent; start: number; end: number; seqno: number }
  /** One xe_svm_copy() chunk: `npages` from virtual page `page`, BO `bo` at page offset `boPage`. */
  | { code: 'copy_debug'; toVram: boolean; page: number; bo: number; boPage: number; npages: number }
  | { code: 'svm_dbg'; msg: SvmDbgMessage; errno?: Errno };

type DecisionCode = Decision['code'];

type Outcome = 'ok' | 'hit' | 'error';

export interface EventResult {
  /** 0-based index of the input event. */
  seq: number;
  op: string;
  /** Simulated time (ns) at which the event took effect (after any waits it caused). */
  t: number;
  outcome: Outcome;
  errno?: Errno;
  decisions: Decision[];
}

// ---------------------------------------------------------------------------------------------
// Registry: the codes and their fields as data (docs/result-format.md is generated from it)

/**
 * Kind of a decision field, which also says how it appears in JSON results: `addr` page indices
 * become 0x byte addresses; `pages` are counts of 4K pages; `bytes` are byte counts; `range` is
 * `{start, end}` (0x addresses), `range[]` a list of them.
 */
type FieldKind =
  | 'addr'
  | 'pages'
  | 'bytes'
  | 'count'
  | 'bool'
  | 'enum'
  | 'string'
  | 'range'
  | 'range[]'
  | 'bo'
  | 'ns'
  | 'ms'
  | 'errno'
  | 'object[]';

export interface FieldSpec {
  kind: FieldKind;
  /** One line: what the field means. */
  doc: string;
  /** For `enum`: the values. */
  values?: readonly string[];
  /** Absent from some records. */
  optional?: true;
}

type FieldsOf<C extends DecisionCode> = Exclude<keyof Extract<Decision, { code: C }>, 'code'>;

/**
 * Every decision code with its fields. The mapped type makes the compiler reject a code or field
 * of `Decision` missing here (or one here that `Decision` lacks).
 */
type Registry = { [C in DecisionCode]: { doc: string; fields: { [K in FieldsOf<C>]-?: FieldSpec } } };

const f = (kind: FieldKind, doc: string, values?: readonly string[]): FieldSpec =>
  values ? { kind, doc, values } : { kind, doc };
const opt = (s: FieldSpec): FieldSpec => ({ ...s, optional: true });
const ERRNOS = [
  'EINVAL',
  'ENOENT',
  'EPERM',
  'EACCES',
  'EFAULT',
  'EBUSY',
  'ENOMEM',
  'ENOSPC',
  'EOPNOTSUPP',
  'ENODATA',
  'EAGAIN',
  'SIGSEGV',
  'LIVELOCK',
] as const satisfies readonly Errno[];
const LOCATIONS = ['vram', 'smem', 'mixed'] as const satisfies readonly Location[];
const start = f('addr', 'first byte address');
const end = f('addr', 'end byte address (exclusive)');
const range = f('range', 'the GPU SVM range');
const NOT_MIGRATABLE = ['shmem', 'file', 'hugetlb', 'igpu', 'no_pagemap'] as const;

export const DECISIONS: Registry = {
  vma_map: {
    doc: 'mmap: a CPU VMA is created',
    fields: {
      start,
      end,
      prot: f('string', 'protection (r, rw, none)'),
      kind: f('string', 'mapping kind (anon, shared, file, hugetlb)'),
      merged: f('bool', 'merged with a neighbour VMA'),
    },
  },
  vma_unmap: {
    doc: 'munmap: CPU pages freed',
    fields: {
      start,
      end,
      pagesFreed: f('pages', 'pages freed'),
      devicePagesFreed: f('pages', 'device-private pages among them'),
    },
  },
  vma_protect: {
    doc: 'mprotect',
    fields: {
      start,
      end,
      prot: f('string', 'new protection'),
      changed: f('bool', 'protection changed (MMU notifier sent)'),
    },
  },
  vma_dontneed: {
    doc: 'madvise(MADV_DONTNEED): pages zapped',
    fields: {
      start,
      end,
      pagesFreed: f('pages', 'pages freed'),
      devicePagesFreed: f('pages', 'device-private pages among them'),
    },
  },
  cpu_populate: {
    doc: 'CPU page fault populates pages',
    fields: {
      pages: f('pages', 'pages allocated'),
      zeroPages: f('pages', 'zero pages mapped (read)'),
      cowPages: f('pages', 'zero pages copied on write'),
    },
  },
  cpu_segv: {
    doc: 'CPU access without a mapping or permission',
    fields: { page: f('addr', 'faulting address'), reason: f('enum', 'why', ['no_vma', 'prot']) },
  },
  mmap_above_task_size: {
    doc: 'mmap of a span reaching past TASK_SIZE: -ENOMEM',
    fields: { start, end, taskSize: f('pages', 'TASK_SIZE as a page number') },
  },
  syscall_einval: {
    doc: 'syscall rejected with -EINVAL',
    fields: { reason: f('enum', 'why', ['unaligned', 'zero_length', 'out_of_range']) },
  },
  timeslice_wait: {
    doc: 'waits for the atomic timeslice of a VRAM BO (drm_pagemap migrate_to_ram)',
    fields: {
      bo: f('bo', 'BO number'),
      start: f('addr', "first address of the BO's span"),
      end: f('addr', "end of the BO's span"),
      fromNs: f('ns', 'wait starts'),
      untilNs: f('ns', 'wait ends'),
      expiryJiffies: f('count', 'timeslice expiry in jiffies'),
      by: f('enum', 'who waits', ['cpu', 'evict', 'get_pages']),
    },
  },
  migrate_to_ram: {
    doc: 'device pages of a BO copied back to system memory',
    fields: {
      bo: f('bo', 'BO number'),
      start,
      end,
      pages: f('pages', 'pages copied'),
      cause: f('enum', 'why', ['cpu_fault', 'range_evict', 'bo_evict', 'prefetch_smem', 'get_pages']),
    },
  },
  bo_free: {
    doc: 'a VRAM BO is freed',
    fields: {
      bo: f('bo', 'BO number'),
      start,
      end,
      bytes: f('bytes', 'VRAM returned'),
      cause: f('enum', 'why', ['last_page_gone', 'migration_failed']),
    },
  },
  bo_alloc: {
    doc: 'xe_svm_alloc_vram(): a VRAM BO for a range',
    fields: { bo: f('bo', 'BO number'), start, end, bytes: f('bytes', 'BO size') },
  },
  bo_evict: {
    doc: 'TTM evicts a BO to make room',
    fields: {
      bo: f('bo', 'victim BO number'),
      start,
      end,
      forRange: f('range', 'the range the room is for'),
      pid: opt(f('count', "the victim BO's process, when it is not the faulting one (several processes)")),
    },
  },
  process: {
    doc: 'the following decisions happen in another process (BO eviction crossing processes)',
    fields: { pid: f('count', 'process id') },
  },
  vram_alloc_failed: {
    doc: 'VRAM allocation failed after eviction',
    fields: {
      bytes: f('bytes', 'requested'),
      free: f('bytes', 'free after eviction'),
      errno: f('errno', 'error', ERRNOS),
    },
  },
  invalidate: {
    doc: 'MMU notifier callback (xe_svm_invalidate)',
    fields: {
      event: f('enum', 'mmu_notifier event', ['UNMAP', 'CLEAR', 'PROTECTION_VMA', 'MIGRATE']),
      start,
      end,
      notifier: f('range', 'the notifier interval'),
      ranges: f('count', 'ranges in the interval'),
      zapped: f('range[]', 'ranges whose GPU PTEs were zapped'),
      tlbInval: f('bool', 'a TLB invalidation was issued'),
      unmapped: f('range[]', 'ranges marked unmapped (queued for the GC)'),
    },
  },
  gc_range: {
    doc: 'garbage collector removes a range',
    fields: {
      range,
      partialUnmap: f('bool', 'partially unmapped'),
      unbound: f('bool', 'GPU mapping unbound'),
      tlbInval: f('bool', 'with a TLB invalidation'),
    },
  },
  notifier_remove: {
    doc: 'a notifier with no ranges left is removed',
    fields: { notifier: f('range', 'the notifier interval') },
  },
  notifier_create: { doc: 'a notifier is created', fields: { notifier: f('range', 'the notifier interval') } },
  gpuvma_attr_reset: {
    doc: 'GPU VMA attributes reset to default',
    fields: { start, end, split: f('bool', 'the GPU VMA was split') },
  },
  gpu_hit: {
    doc: 'GPU access served by a valid mapping, no fault',
    fields: { range, location: f('enum', 'where the pages are', LOCATIONS) },
  },
  no_gpu_vma: { doc: 'no GPU VMA at the address: -EINVAL', fields: { page: f('addr', 'faulting address') } },
  fault: {
    doc: 'GPU page fault enters xe_svm_handle_pagefault()',
    fields: {
      page: f('addr', 'faulting address'),
      access: f('enum', 'access type', ['read', 'write', 'atomic']),
      devmemOnly: f('bool', 'the access needs device memory'),
      timesliceMs: f('ms', 'atomic timeslice'),
      tries: f('count', 'migration tries'),
      ownerNull: opt(
        f('bool', '6.18.y: device-private owner NULL (the VMA prefers system memory); present only when true'),
      ),
    },
  },
  atomic_cpu_attr: { doc: 'atomic attribute CPU: GPU atomics get -EACCES', fields: {} },
  range_error: {
    doc: 'range lookup failed',
    fields: {
      errno: f('errno', 'error', ERRNOS),
      reason: f('enum', 'why', ['no_cpu_vma', 'cpu_vma_readonly', 'no_chunk', 'out_of_mm']),
    },
  },
  range: {
    doc: 'drm_gpusvm_range_find_or_insert(): the range for the fault',
    fields: {
      range,
      created: f('bool', 'newly created'),
      rejected: f(
        'object[]',
        'larger chunks rejected: {pages, reason} (reason: cpu_vma, notifier, gpu_vma, overlap, check_pages)',
      ),
      migrateDevmem: f('bool', 'the range may hold device pages'),
      notMigratable: opt(f('enum', 'for a created range with migrate_devmem = 0: why', NOT_MIGRATABLE)),
    },
  },
  not_migratable_atomic: {
    doc: 'atomic fault needs VRAM but the range cannot migrate: -EACCES',
    fields: { range, cause: f('enum', 'why the range cannot hold device pages', NOT_MIGRATABLE) },
  },
  range_valid: { doc: 'range already valid: nothing to do', fields: { range } },
  no_migrate: {
    doc: 'the fault handler does not migrate the range',
    fields: {
      range,
      reason: f('enum', 'why', [
        'has_devmem_pages',
        'not_migratable',
        'not_preferred',
        'need64k',
        'tries_exhausted',
        'skip_migrate',
        'below_64k',
      ]),
      cause: opt(f('enum', 'why the range cannot hold device pages (reason not_migratable)', NOT_MIGRATABLE)),
    },
  },
  migrate_to_vram: {
    doc: 'xe_svm_alloc_vram() + migration to VRAM',
    fields: {
      range,
      bo: f('bo', 'BO number'),
      ok: f('bool', 'succeeded'),
      errno: opt(f('errno', 'error when failed', ERRNOS)),
      copiedPages: f('pages', 'pages copied'),
      timesliceMs: f('ms', 'atomic timeslice'),
      reason: f('enum', 'the policy that asked for the migration', [
        'preferred_device',
        'default_policy',
        'devmem_only',
        'migrate_once',
        'always_migrate_to_vram',
        'prefetch',
      ]),
      cause: opt(
        f('enum', 'why it failed', [
          'vram_full',
          'no_cpu_vma',
          'spans_cpu_vmas',
          'not_anonymous',
          'all_device_private',
          'partly_device_private',
        ]),
      ),
    },
  },
  get_pages: {
    doc: 'drm_gpusvm_range_get_pages()',
    fields: {
      range,
      ok: f('bool', 'succeeded'),
      errno: opt(f('errno', 'error when failed', ERRNOS)),
      cause: opt(
        f('enum', 'why it failed', [
          'no_cpu_vma',
          'prot_none',
          'read_only',
          'unmapped',
          'mixed_bo',
          'mixed_placement',
          'smem_devmem_only',
        ]),
      ),
      location: opt(f('enum', 'where the pages are', LOCATIONS)),
      faultedIn: f('pages', 'pages faulted in by hmm_range_fault()'),
    },
  },
  migrate_failed_get_pages: {
    doc: '6.18.y: a devmem_only migration failed with tries left: straight to get_pages',
    fields: {},
  },
  fault_acked_unbound: {
    doc: '6.18.y: the fault is acknowledged (returns 0) without a bind',
    fields: { range, errno: f('errno', 'the error the handler swallowed', ERRNOS) },
  },
  gpu_replay: {
    doc: 'the GPU replays an access whose fault was acknowledged unbound',
    fields: { page: f('addr', 'address replayed'), replays: f('count', 'replays so far') },
  },
  range_evict: { doc: 'a range is evicted to RAM', fields: { range } },
  bind: {
    doc: 'GPU page-table bind of the range',
    fields: {
      range,
      location: f('enum', 'where the pages are', LOCATIONS),
      atomicEnable: f('bool', 'bound with atomic enable'),
    },
  },
  livelock: {
    doc: 'the simulator cuts a loop the kernel would run without end (reported as the LIVELOCK outcome)',
    fields: {
      loop: f('enum', 'which loop', ['handler_retry', 'vma_relookup', 'gpu_replay']),
      iterations: f('count', 'iterations run before the cut (livelock_bound)'),
    },
  },
  retry: {
    doc: 'the fault handler retries',
    fields: {
      reason: f('enum', 'why', ['migrate_failed', 'get_pages_failed', 'vma_split']),
      timesliceMs: f('ms', 'timeslice now'),
    },
  },
  vma_relookup: { doc: 'GPU VMA split by the GC: looked up again (-EAGAIN)', fields: {} },
  kernel_lacks_op: {
    doc: 'the kernel profile lacks the ioctl: -EINVAL',
    fields: { op: f('string', 'the op'), since: f('string', 'first kernel with it') },
  },
  prefetch_collect: {
    doc: 'prefetch: ranges to process',
    fields: { ranges: f('range[]', 'ranges collected'), skipped: f('count', 'already in place') },
  },
  prefetch_hole: {
    doc: 'prefetch: no CPU VMA at an address',
    fields: { page: f('addr', 'address of the hole'), next: f('addr', 'where the prefetch continues (null: stop)') },
  },
  madvise_split: { doc: 'xe madvise splits the GPU VMA', fields: { at: f('addr', 'split address') } },
  madvise_range_remove: {
    doc: 'a range straddling the split is removed',
    fields: { range, evicted: f('bool', 'evicted first'), tlbInval: f('bool', 'with a TLB invalidation') },
  },
  madvise_attr: {
    doc: 'xe madvise changes an attribute',
    fields: {
      start,
      end,
      attr: f('enum', 'attribute', ['preferred', 'atomic']),
      from: f('string', 'old value'),
      to: f('string', 'new value'),
    },
  },
  range_debug: {
    doc: 'CONFIG_DRM_XE_DEBUG_VM: a range_debug() print (only with the debug-VM option)',
    fields: {
      label: f('enum', 'the print', [
        'PAGE FAULT',
        'PAGE FAULT - VALID',
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
        'PREFETCH - RANGE IS VALID',
        'PREFETCH - RANGE CREATED',
        'PREFETCH - RANGE MIGRATED TO VRAM',
        'PREFETCH - RANGE GET PAGES DONE',
      ]),
      range,
      vram: f('object[]', '[has_devmem_pages, has a VRAM binding]'),
      seqno: f('count', 'the range notifier_seq (-1: LONG_MAX)'),
    },
  },
  invalidate_debug: {
    doc: 'CONFIG_DRM_XE_DEBUG_VM: one xe_svm_invalidate() call, the mmu_notifier_range as given',
    fields: {
      event: f('enum', 'mmu_notifier event', ['UNMAP', 'CLEAR', 'PROTECTION_VMA', 'MIGRATE']),
      start,
      end,
      seqno: f('count', "the notifier's seq"),
    },
  },
  copy_debug: {
    doc: 'CONFIG_DRM_XE_DEBUG_VM: one xe_svm_copy() chunk',
    fields: {
      toVram: f('bool', 'direction: to VRAM'),
      page: f('addr', 'first virtual address'),
      bo: f('bo', 'BO number'),
      boPage: f('pages', 'page offset in the BO'),
      npages: f('pages', 'pages copied'),
    },
  },
  svm_dbg: {
    doc: 'CONFIG_DRM_XE_DEBUG_VM: an xe_svm drm_dbg() message',
    fields: {
      msg: f('enum', 'the message', [
        'vram_alloc_retry',
        'vram_alloc_exceeded',
        'get_pages_retry',
        'get_pages_exceeded',
        'range_in_vram',
        'no_4k_migration',
        'prefetch_vram_failed',
        'prefetch_get_pages_failed',
      ]),
      errno: opt(f('errno', 'the error printed', ERRNOS)),
    },
  },
  madvise_zap: {
    doc: 'attribute change zaps bound ranges',
    fields: { zapped: f('range[]', 'ranges zapped'), tlbInval: f('bool', 'one TLB invalidation') },
  },
};

export const DECISION_CODES = Object.keys(DECISIONS) as DecisionCode[];
