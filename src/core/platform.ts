/**
 * DOC: Platform and kernel profile
 *
 * Everything the kernel decides from configuration rather than from the trace: the kernel version
 * (which selects policy and the GT counter list), the device (discrete or integrated, VRAM size,
 * NEED64K), module parameters (svm_notifier_size) and debugfs knobs (atomic_svm_timeslice_ms).
 *
 * Points that the kernel source leaves open, or that the reference marks UNCONFIRMED, are named
 * knobs here with a stated default, never silent guesses. docs/platform.md lists every knob with
 * the kernel symbol it stands for.
 */

/**
 * Profiles in release order. `6.18.y` is the stable series as read in 6.18.10 (7c7a51d8a7d6): 6.18
 * plus the four behaviours of its knobs below (which of them v6.18.0 already has is UNVERIFIED).
 */
export const KERNEL_VERSIONS = ['6.15-rc1', '6.15', '6.16', '6.17', '6.18', '6.18.y'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];

/** Ordinal of a kernel version, for "≥ 6.17"-style comparisons. */
function kernelOrdinal(v: KernelVersion): number {
  return KERNEL_VERSIONS.indexOf(v);
}

/** True when kernel `v` is `min` or newer. */
export function kernelAtLeast(v: KernelVersion, min: KernelVersion): boolean {
  return kernelOrdinal(v) >= kernelOrdinal(min);
}

/** When GPU SVM range unbinds done by the garbage collector send a TLB invalidation. */
type GcUnbindTlbInval = 'always' | 'if_valid';
/** When the garbage collector runs after a munmap. */
type GcTiming = 'eager' | 'lazy';
/** How XE_VRAM_FLAGS_NEED64K compares the range size with 64K. */
type Need64kRule = 'lt' | 'le';
/** The errno a VRAM BO allocation returns once TTM cannot make room. */
type VramFailErrno = 'ENOMEM' | 'ENOSPC';
/** How `_us` counters are filled. */
export type CostModelName = 'bmg' | 'zero';

export interface Platform {
  /** Kernel profile: selects policy and the GT counter list. Default 6.18. */
  kernel: KernelVersion;
  /** Discrete GPU with VRAM (IS_DGFX). false = integrated: nothing migrates. Default true. */
  dgfx: boolean;
  /** CONFIG_DRM_XE_PAGEMAP (6.15/6.16: CONFIG_DRM_XE_DEVMEM_MIRROR). Default true. */
  pagemap: boolean;
  /** VRAM of tile 0 available to SVM BOs, in bytes. Default 16 GiB. */
  vramBytes: bigint;
  /** XE_VRAM_FLAGS_NEED64K (PVC-class devices). Default false (BMG-class). */
  need64k: boolean;
  /**
   * Comparison used with need64k. Default 'lt' on every profile: the `<= SZ_64K` regression came with
   * the strict atomic policy (794f5493f518) and was fixed by d6fb4f01736a / 531bef26d189 before 6.16.0
   * and in 6.15.y stable; 'le' replays 6.15.0-6.15.3 or the 6.16-cycle trees that still had it.
   */
  need64kRule: Need64kRule;
  /**
   * Module parameter svm_notifier_size, in bytes (MiB * SZ_1M). Default 512 MiB. Any power of two
   * from 1 MiB: drm_gpusvm_init() checks nothing, and with 1 MiB no 2M chunk fits a notifier, so the
   * largest range is 64K.
   */
  notifierBytes: bigint;
  /**
   * xe->atomic_svm_timeslice_ms: debugfs knob from 6.17 (first drm-xe-next pull towards 6.17);
   * 6.15 and 6.16 use a literal 5 and ignore this knob; 6.15-rc1 has no timeslice. Default 5.
   */
  atomicTimesliceMs: number;
  /** Kernel HZ for msecs_to_jiffies() rounding of the timeslice. Default 250. */
  hz: number;
  /** Tile 0 has a media GT (gt1) that receives TLB invalidations. Default true. */
  mediaGt: boolean;
  /** GPU VA bits: the CPU-address-mirror VMA covers [0, 2^vaBits) and vm->size = 2^vaBits. Default 48. */
  vaBits: number;
  /** The mirror VMA was bound read-only (ctx->read_only). Default false. */
  mirrorReadOnly: boolean;
  /** VM created with scratch pages (forces TLB invalidation on unbind, ≥6.17). Default false. */
  scratchPages: boolean;
  /** xe->info.has_device_atomics_on_smem: set for every platform but PVC (xe_info_init). Default true. */
  deviceAtomicsOnSmem: boolean;
  /** SVM VMs are LR (compute) VMs, whose SMEM PTEs lack atomic enable on DGFX (xe_atomic_for_system). Default true. */
  atomicFaultsOnSmemPte: boolean;
  /**
   * GC unbind TLB invalidation rule. Default 'always' up to 6.16 (unbind_range_prepare() sets
   * needs_invalidation unconditionally), 'if_valid' from 6.17 (bcc287203ca7, opportunistic skip).
   */
  gcUnbindTlbInval: GcUnbindTlbInval;
  /** When the GC worker runs: right after each munmap ('eager', default) or at the next fault ('lazy'). */
  gc: GcTiming;
  /** 6.15-rc1 module parameter always_migrate_to_vram. Default false. */
  alwaysMigrateToVram: boolean;
  /** Errno of a failed VRAM allocation after eviction (UNCONFIRMED; ttm_bo_validate maps ENOSPC→ENOMEM). Default ENOMEM. */
  vramFailErrno: VramFailErrno;
  /** Merge adjacent anonymous private VMAs with equal protection, as mm's vma_merge does. Default true. */
  vmaMerge: boolean;
  /** Cost model behind the `_us` counters. Default 'bmg'. */
  costModel: CostModelName;
  /**
   * Where the simulator cuts a loop the kernel would run without end (the -EPERM/-EFAULT get_pages
   * retry, a 6.18.y fault acked without a bind that the GPU replays): after this many handler loop
   * iterations, or GPU replays, without progress the access is reported as LIVELOCK. Default 64.
   */
  livelockBound: number;
  /**
   * 6.18.y: the fault handler's common exit `out` returns 0 for -EACCES (atomic, range not
   * migratable), hard get_pages failures and exhausted devmem_only retries: the fault is acked,
   * nothing is bound and the GPU faults again. Default true on 6.18.y, false elsewhere.
   */
  faultExitReturnsZero: boolean;
  /**
   * 6.18.y: ctx.device_private_page_owner is NULL when the VMA prefers system memory
   * (xe_vma_resolve_pagemap() == NULL) and the fault is not devmem_only: check_pages counts our
   * own VRAM pages absent and get_pages' hmm walk pulls them back to RAM (timeslice-gated).
   * Default true on 6.18.y, false elsewhere.
   */
  prefSystemOwnerNull: boolean;
  /**
   * 6.18.y: a devmem_only VRAM allocation failure with tries left goes straight to get_pages
   * instead of the retry label. Default true on 6.18.y, false elsewhere.
   */
  devmemOnlyFailToGetPages: boolean;
  /**
   * 6.18.y: xe_svm_range_set_default_attr() resets attributes only of VMAs bound with
   * DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (XE_VMA_MADV_AUTORESET). Default true on 6.18.y,
   * false elsewhere.
   */
  madviseAutoresetGate: boolean;
  /**
   * The mirror VMA was bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (only read with
   * madvise_autoreset_gate). Default false: a bare CPU_ADDR_MIRROR bind.
   */
  mirrorMadviseAutoreset: boolean;
}

/** Kernel-version dependent knob defaults. */
function versionDefaults(
  kernel: KernelVersion,
): Pick<
  Platform,
  | 'need64kRule'
  | 'gcUnbindTlbInval'
  | 'faultExitReturnsZero'
  | 'prefSystemOwnerNull'
  | 'devmemOnlyFailToGetPages'
  | 'madviseAutoresetGate'
> {
  const stable618 = kernelAtLeast(kernel, '6.18.y');
  return {
    need64kRule: 'lt',
    gcUnbindTlbInval: kernelAtLeast(kernel, '6.17') ? 'if_valid' : 'always',
    faultExitReturnsZero: stable618,
    prefSystemOwnerNull: stable618,
    devmemOnlyFailToGetPages: stable618,
    madviseAutoresetGate: stable618,
  };
}

/** The platform every trace starts from: a BMG-class discrete card on kernel 6.18. */
export function defaultPlatform(kernel: KernelVersion = '6.18'): Platform {
  return {
    kernel,
    dgfx: true,
    pagemap: true,
    vramBytes: 16n << 30n,
    need64k: false,
    notifierBytes: 512n << 20n,
    atomicTimesliceMs: 5,
    hz: 250,
    mediaGt: true,
    vaBits: 48,
    mirrorReadOnly: false,
    scratchPages: false,
    deviceAtomicsOnSmem: true,
    atomicFaultsOnSmemPte: true,
    gc: 'eager',
    alwaysMigrateToVram: false,
    vramFailErrno: 'ENOMEM',
    vmaMerge: true,
    costModel: 'bmg',
    livelockBound: 64,
    mirrorMadviseAutoreset: false,
    ...versionDefaults(kernel),
  };
}

/** Names of platform knobs as written in traces and on the command line (snake_case). */
export const PLATFORM_KNOBS = {
  kernel: 'kernel',
  dgfx: 'dgfx',
  pagemap: 'pagemap',
  vramBytes: 'vram',
  need64k: 'need64k',
  need64kRule: 'need64k_rule',
  notifierBytes: 'notifier_size',
  atomicTimesliceMs: 'atomic_timeslice_ms',
  hz: 'hz',
  mediaGt: 'media_gt',
  vaBits: 'va_bits',
  mirrorReadOnly: 'mirror_read_only',
  scratchPages: 'scratch_pages',
  deviceAtomicsOnSmem: 'device_atomics_on_smem',
  atomicFaultsOnSmemPte: 'atomic_faults_on_smem_pte',
  gcUnbindTlbInval: 'gc_unbind_tlb_inval',
  gc: 'gc',
  alwaysMigrateToVram: 'always_migrate_to_vram',
  vramFailErrno: 'vram_fail_errno',
  vmaMerge: 'vma_merge',
  costModel: 'cost_model',
  livelockBound: 'livelock_bound',
  faultExitReturnsZero: 'fault_exit_returns_zero',
  prefSystemOwnerNull: 'pref_system_owner_null',
  devmemOnlyFailToGetPages: 'devmem_only_fail_to_get_pages',
  madviseAutoresetGate: 'madvise_autoreset_gate',
  mirrorMadviseAutoreset: 'mirror_madvise_autoreset',
} as const satisfies Record<keyof Platform, string>;
