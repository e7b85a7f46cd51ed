/**
 * DOC: Option parsing shared by several commands.
 */

import type { ThrashOptions } from '../core/metrics.js';
import { DEFAULT_DMESG, type DmesgOptions } from '../report/dmesg.js';
import { parseTime } from '../trace/index.js';
import { UsageError } from './errors.js';

/** --thrash-threshold / --thrash-window. */
export function thrashOptions(o: { thrashThreshold: string; thrashWindow: string }): ThrashOptions {
  const threshold = Number(o.thrashThreshold);
  if (!Number.isInteger(threshold) || threshold < 1) throw new UsageError(`--thrash-threshold ${o.thrashThreshold}: expected a positive integer`);
  let windowNs: number;
  try {
    windowNs = parseTime(o.thrashWindow);
  } catch {
    throw new UsageError(`--thrash-window ${o.thrashWindow}: expected a time such as 500us`);
  }
  return { threshold, windowNs };
}


/** --dmesg-asid / --dmesg-gpusvm / --dmesg-pci (replay --format dmesg, validate --kernel-log). */
export interface DmesgCliOpts {
  dmesgAsid?: string;
  dmesgGpusvm?: string;
  dmesgPci?: string;
}

export function dmesgOptions(o: DmesgCliOpts): DmesgOptions {
  const out = { ...DEFAULT_DMESG };
  if (o.dmesgAsid !== undefined) {
    const n = Number(o.dmesgAsid);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--dmesg-asid ${o.dmesgAsid}: expected an unsigned 32-bit number`);
    out.asid = n;
  }
  if (o.dmesgGpusvm !== undefined) {
    const h = o.dmesgGpusvm.replace(/^0x/i, '').toLowerCase();
    if (!/^[0-9a-f]{1,16}$/.test(h)) throw new UsageError(`--dmesg-gpusvm ${o.dmesgGpusvm}: expected up to 16 hex digits`);
    out.gpusvm = h.padStart(16, '0');
  }
  if (o.dmesgPci !== undefined) {
    if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(o.dmesgPci)) throw new UsageError(`--dmesg-pci ${o.dmesgPci}: expected a PCI address such as 0000:03:00.0`);
    out.pci = o.dmesgPci.toLowerCase();
  }
  return out;
}
