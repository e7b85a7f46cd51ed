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
  | { code: 'bo_free'; bo: number; start: number; end: number; bytes: bigint; cause: 'last_page_gone' | 'migration_failed' }
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

export type DecisionCode = Decision['code'];

export type Outcome = 'ok' | 'hit' | 'error';

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
