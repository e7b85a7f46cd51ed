/**
 * DOC: Kernel observations
 *
 * One thing a real kernel was seen doing on the SVM path, read from a capture (a DEBUG_VM dmesg
 * log, or a bpftrace capture imported by `svmsim import`), normalised so that it can be aligned
 * with what the model decided: pointers, seqnos, timestamps and physical addresses are dropped.
 */

/** Where an observation was read: 1-based line of the capture file and the raw text. */
interface ObservationSource {
  line: number;
  text: string;
}

export interface KernelObservation {
  /** The vm_dbg / drm_dbg label, e.g. 'PAGE FAULT', 'ALLOCATE VRAM', 'COPY TO VRAM', 'INVALIDATE'. */
  label: string;
  /** Address-space id of the VM (range_debug / INVALIDATE lines), when the capture carries it. */
  asid?: number;
  /** Range or span bounds, byte addresses. */
  start?: bigint;
  end?: bigint;
  /** range_debug "vram=%d,%d": has device pages, has VRAM binding. */
  vram?: [number, number];
  /** COPY TO VRAM/SRAM NPAGES. */
  npages?: number;
  /** INVALIDATE event= (enum mmu_notifier_event number). */
  event?: number;
  source: ObservationSource;
}

/** A capture: its observations in order, and the labels its source can show at all. */
export interface ObservationLog {
  /** 'dmesg' for a vm_dbg log; 'bpftrace' for an imported bpftrace capture. */
  kind: 'dmesg' | 'bpftrace';
  /** Labels this kind of capture can contain: the model's lines are compared only on these. */
  alphabet: ReadonlySet<string>;
  observations: Iterable<KernelObservation> | AsyncIterable<KernelObservation>;
}
