/**
 * DOC: bpftrace captures as kernel observation logs
 *
 * `svmsim validate --kernel-log` accepts a bpftrace capture (from `svmsim capture --script`) in
 * place of a DEBUG_VM dmesg log. The capture's probes are mapped to the vm_dbg labels the same
 * kernel steps print (`BPFTRACE_LABELS`, docs/capture.md): the alphabet is those labels only, so
 * the model's other lines (NOTIFIER, INVALIDATE, COPY TO ..., BIND, ...) are not compared. The
 * observations carry range bounds; asid, vram flags and NPAGES are not captured.
 */

import { bpftraceAlphabet, decodeBpftrace, readCaptureHeader } from '../import/bpftrace.js';
import { SkipCounter } from '../import/types.js';
import type { KernelObservation, ObservationLog } from './observation.js';

/** Reorder window for captures read as logs (as `svmsim import`'s default). */
const WINDOW_NS = 20_000_000n;

/** Read a bpftrace capture as an observation log (streamed; bad lines throw file:line). */
export function observationsFromBpftrace(path: string): ObservationLog {
  const { header } = readCaptureHeader(path);
  function* observations(): Generator<KernelObservation> {
    for (const d of decodeBpftrace(
      path,
      header,
      { gpuAccess: 'read', reorderWindowNs: WINDOW_NS },
      new SkipCounter(),
    )) {
      if ('obs' in d) yield d.obs;
    }
  }
  return { kind: 'bpftrace', alphabet: bpftraceAlphabet(header.kernel), observations: observations() };
}
