/**
 * DOC: Decision wording
 *
 * The one place where decision codes become sentences. Each line names the kernel step it
 * stands for, in the words a driver developer knows from xe_svm.c's range_debug() lines
 * ("PAGE FAULT", "ALLOCATE VRAM", "GET PAGES", "BIND", "NOTIFIER", "GARBAGE COLLECTOR").
 */

import type {
  ChunkReject,
  Decision,
  GetPagesFailCause,
  MigrateFailCause,
  MigrateReason,
  NoMigrateReason,
  NotMigratableCause,
} from '../core/decisions.js';
import { hexPage, humanBytes, humanPages, ms, span } from './format.js';

const REJECT: Record<ChunkReject, string> = {
  cpu_vma: 'leaves the CPU VMA',
  notifier: 'leaves the notifier',
  gpu_vma: 'leaves the GPU VMA',
  overlap: 'overlaps an existing range',
  check_pages: 'not all pages CPU-present (check_pages)',
};

const NO_MIGRATE: Record<NoMigrateReason, string> = {
  has_devmem_pages: 'already in VRAM',
  not_migratable: 'range cannot hold device pages (migrate_devmem=0)',
  not_preferred: 'preferred location is not VRAM',
  need64k: 'smaller than 64K on a NEED64K platform',
  tries_exhausted: 'no migration tries left',
  skip_migrate: 'already migrated once (skip_migrate)',
  below_64k: 'below 64K (6.15-rc1 migrates only >= 64K)',
};

const NOT_MIGRATABLE: Record<NotMigratableCause, string> = {
  shmem: 'the CPU VMA is shmem (MAP_SHARED|MAP_ANONYMOUS), not anonymous',
  file: 'the CPU VMA is a file mapping, not anonymous',
  hugetlb: 'the CPU VMA is hugetlb',
  igpu: 'integrated GPU: no VRAM (devmem_possible=0)',
  no_pagemap: 'CONFIG_DRM_XE_PAGEMAP is off (devmem_possible=0)',
};

const MIGRATE_REASON: Record<MigrateReason, string> = {
  preferred_device: 'preferred location is VRAM and the range is not there',
  default_policy: 'DGFX default policy: an invalid range migrates to VRAM',
  devmem_only: 'atomic fault needs VRAM (devmem_only)',
  migrate_once: '6.15-rc1: first migration of a range >= 64K',
  always_migrate_to_vram: '6.15-rc1 module parameter always_migrate_to_vram',
  prefetch: 'prefetch to VRAM',
};

const MIGRATE_FAIL: Record<MigrateFailCause, string> = {
  vram_full: 'no VRAM left after eviction',
  no_cpu_vma: 'no CPU VMA at the range start',
  spans_cpu_vmas: 'the range spans more than one CPU VMA',
  not_anonymous: 'the CPU VMA is not anonymous',
  all_device_private: 'the pages are already device-private: migrate_vma collects nothing',
  partly_device_private: 'some pages are already device-private: migrate_vma collects only part of the range',
};

const GET_PAGES_FAIL: Record<GetPagesFailCause, string> = {
  no_cpu_vma: 'hmm walk hit an unmapped hole',
  prot_none: 'part of the range is PROT_NONE',
  read_only: 'write fault over a read-only part of the range',
  unmapped: 'the range was unmapped meanwhile',
  mixed_bo: 'device pages of two VRAM allocations',
  mixed_placement: 'the range mixes system and device pages',
  smem_devmem_only: 'system pages where the atomic fault needs VRAM',
};

const pl = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

const ref = (r: { start: number; end: number }) => `${span(r.start, r.end)} ${humanPages(r.end - r.start)}`;

/** One line of text for a decision. */
export function describe(d: Decision): string {
  switch (d.code) {
    case 'vma_map':
      return `mmap ${ref(d)} ${d.prot} ${d.kind}${d.merged ? ' (merged with neighbour VMA)' : ''}`;
    case 'vma_unmap':
      return `munmap ${ref(d)}: ${pl(d.pagesFreed, 'page')} freed${d.devicePagesFreed ? `, ${d.devicePagesFreed} of them device pages` : ''}`;
    case 'vma_protect':
      return d.changed ? `mprotect ${ref(d)} -> ${d.prot}` : `mprotect ${ref(d)}: protection unchanged, no notifier`;
    case 'vma_dontneed':
      return `madvise(DONTNEED) ${ref(d)}: ${pl(d.pagesFreed, 'page')} freed${d.devicePagesFreed ? `, ${pl(d.devicePagesFreed, 'device page')}` : ''}`;
    case 'cpu_populate': {
      const parts: string[] = [];
      if (d.pages) parts.push(`${pl(d.pages, 'page')} allocated`);
      if (d.zeroPages) parts.push(`${pl(d.zeroPages, 'zero page')} mapped`);
      if (d.cowPages) parts.push(`${pl(d.cowPages, 'zero page')} copied on write`);
      return `CPU fault: ${parts.join(', ')}`;
    }
    case 'cpu_segv':
      return `CPU access at ${hexPage(d.page)}: SIGSEGV (${d.reason === 'no_vma' ? 'no mapping' : 'protection'})`;
    case 'mmap_above_task_size':
      return `-ENOMEM: ${span(d.start, d.end)} reaches past TASK_SIZE ${hexPage(d.taskSize)} (the top of the user address space)`;
    case 'syscall_einval':
      return `-EINVAL: ${d.reason.replace('_', ' ')}`;
    case 'timeslice_wait':
      return `${d.by === 'cpu' ? 'CPU' : d.by === 'evict' ? 'range evict' : 'get_pages (owner NULL)'} waits for BO#${d.bo} timeslice: ${ms(d.fromNs)} -> ${ms(d.untilNs)} (expiry jiffy ${d.expiryJiffies})`;
    case 'migrate_to_ram':
      return `MIGRATE TO RAM BO#${d.bo} window ${ref(d)}: ${pl(d.pages, 'page')} copied (${d.cause.replace('_', ' ')})`;
    case 'bo_free':
      return `BO#${d.bo} freed, ${humanBytes(d.bytes)} VRAM returned (${d.cause === 'last_page_gone' ? 'last device page gone' : 'migration failed'})`;
    case 'bo_alloc':
      return `ALLOCATE VRAM BO#${d.bo} ${humanBytes(d.bytes)} for ${span(d.start, d.end)}`;
    case 'bo_evict':
      return `TTM evicts BO#${d.bo} ${ref(d)}${d.pid !== undefined ? ` of pid ${d.pid}` : ''} to make room for ${span(d.forRange.start, d.forRange.end)}`;
    case 'process':
      return `-- in pid ${d.pid}:`;
    case 'vram_alloc_failed':
      return `VRAM allocation of ${humanBytes(d.bytes)} failed (${humanBytes(d.free)} free after eviction): -${d.errno}`;
    case 'invalidate': {
      const z = d.zapped.length ? `zapped ${pl(d.zapped.length, 'range')}` : 'nothing bound to zap';
      const u = d.unmapped.length ? `, ${pl(d.unmapped.length, 'range')} unmapped -> GC` : '';
      return `NOTIFIER ${d.event} ${span(d.start, d.end)}: ${pl(d.ranges, 'range')}, ${z}${d.tlbInval ? ', TLB invalidation' : ''}${u}`;
    }
    case 'gc_range':
      return `GARBAGE COLLECTOR removes ${ref(d.range)}${d.partialUnmap ? ' (partial unmap)' : ''}${d.unbound ? (d.tlbInval ? ', unbind with TLB invalidation' : ', unbind (no TLB invalidation)') : ''}`;
    case 'notifier_create':
      return `notifier ${span(d.notifier.start, d.notifier.end)} created`;
    case 'notifier_remove':
      return `notifier ${span(d.notifier.start, d.notifier.end)} removed (no ranges left)`;
    case 'gpuvma_attr_reset':
      return `GPU VMA attributes over ${span(d.start, d.end)} reset to default${d.split ? ' (VMA split)' : ''}`;
    case 'gpu_hit':
      return `GPU access served by ${ref(d.range)} in ${d.location}, no fault`;
    case 'no_gpu_vma':
      return `no GPU VMA at ${hexPage(d.page)}: -EINVAL`;
    case 'fault':
      return `PAGE FAULT ${d.access} at ${hexPage(d.page)}${d.devmemOnly ? ` devmem_only, timeslice ${d.timesliceMs}ms` : ''}, ${d.tries} migration tr${d.tries === 1 ? 'y' : 'ies'}${d.ownerNull ? ', device-private owner NULL (VMA prefers system)' : ''}`;
    case 'atomic_cpu_attr':
      return 'atomic attribute is CPU: GPU atomics not allowed, -EACCES';
    case 'range_error':
      return `range lookup failed: -${d.errno} (${d.reason.replace(/_/g, ' ')})`;
    case 'range': {
      const why = d.rejected.map((x) => `${humanPages(x.pages)} ${REJECT[x.reason]}`).join('; ');
      return d.created
        ? `range ${ref(d.range)} created${why ? ` (${why})` : ''}${d.migrateDevmem ? '' : `, not migratable${d.notMigratable ? ` (${NOT_MIGRATABLE[d.notMigratable]})` : ''}`}`
        : `range ${ref(d.range)} found`;
    }
    case 'not_migratable_atomic':
      return `atomic fault needs VRAM but the range cannot migrate (${NOT_MIGRATABLE[d.cause]}): -EACCES`;
    case 'range_valid':
      return 'range already valid: nothing to do';
    case 'no_migrate':
      return `no migration: ${NO_MIGRATE[d.reason]}${d.cause ? `: ${NOT_MIGRATABLE[d.cause]}` : ''}`;
    case 'migrate_to_vram':
      return d.ok
        ? `MIGRATE TO VRAM BO#${d.bo} (${MIGRATE_REASON[d.reason]}): ${pl(d.copiedPages, 'page')} copied${d.timesliceMs ? `, timeslice ${d.timesliceMs}ms` : ''}`
        : `MIGRATE TO VRAM (${MIGRATE_REASON[d.reason]}) failed: -${d.errno}${d.cause ? `, ${MIGRATE_FAIL[d.cause]}` : ''}`;
    case 'get_pages':
      return d.ok
        ? `GET PAGES: ${d.location}${d.faultedIn ? `, ${pl(d.faultedIn, 'page')} faulted in` : ''}`
        : `GET PAGES failed: -${d.errno}${d.cause ? `, ${GET_PAGES_FAIL[d.cause]}` : ''}${d.faultedIn ? ` (${pl(d.faultedIn, 'page')} faulted in)` : ''}`;
    case 'migrate_failed_get_pages':
      return 'migration failed with tries left: go to get_pages (6.18.y)';
    case 'fault_acked_unbound':
      return `fault acked without a bind (-${d.errno} swallowed by the handler exit, 6.18.y): the GPU will fault again`;
    case 'livelock':
      return `LIVELOCK: the kernel would loop forever (${d.loop === 'handler_retry' ? 'get_pages -EPERM/-EFAULT retried without bound' : d.loop === 'gpu_replay' ? 'the GPU replays a fault acked without a bind' : 'the VMA is looked up again and again'}); cut after ${d.iterations} (livelock_bound)`;
    case 'gpu_replay':
      return `GPU replays the access at ${hexPage(d.page)} (replay ${d.replays})`;
    case 'range_evict':
      return `evict range ${ref(d.range)} to RAM`;
    case 'bind':
      return `BIND ${d.location}${d.atomicEnable ? '' : ' (no atomic enable)'}`;
    case 'retry':
      return `retry (${d.reason.replace(/_/g, ' ')})${d.timesliceMs ? `, timeslice now ${d.timesliceMs}ms` : ''}`;
    case 'vma_relookup':
      return 'GPU VMA was split by the GC: look it up again (-EAGAIN)';
    case 'kernel_lacks_op':
      return `kernel has no ${d.op} (since ${d.since}): -EINVAL`;
    case 'prefetch_collect':
      return `prefetch: ${pl(d.ranges.length, 'range')} to process, ${d.skipped} already in place`;
    case 'prefetch_hole':
      return `prefetch: no CPU VMA at ${hexPage(d.page)}${d.next === null ? ', stop' : `, continue at ${hexPage(d.next)}`}`;
    case 'madvise_split':
      return `GPU VMA split at ${hexPage(d.at)}`;
    case 'madvise_range_remove':
      return `range ${ref(d.range)} straddles the split: ${d.evicted ? 'evicted, ' : ''}unbound and removed${d.tlbInval ? ' with TLB invalidation' : ''}`;
    case 'madvise_attr':
      return `${d.attr} ${d.from} -> ${d.to} on ${span(d.start, d.end)}`;
    case 'madvise_zap':
      return `attribute changed: ${pl(d.zapped.length, 'range')} zapped${d.tlbInval ? ', one TLB invalidation' : ''}`;
    // CONFIG_DRM_XE_DEBUG_VM print points (replay --format dmesg prints them as the kernel does).
    case 'range_debug':
      return `vm_dbg ${d.label}: ${ref(d.range)} vram=${d.vram[0]},${d.vram[1]}`;
    case 'invalidate_debug':
      return `vm_dbg INVALIDATE ${d.event} ${span(d.start, d.end)}`;
    case 'copy_debug':
      return `vm_dbg COPY TO ${d.toVram ? 'VRAM' : 'SRAM'} ${pl(d.npages, 'page')}`;
    case 'svm_dbg':
      return `drm_dbg ${d.msg}${d.errno !== undefined ? ` -${d.errno}` : ''}`;
  }
}
