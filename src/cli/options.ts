/**
 * DOC: Option parsing shared by several commands.
 */

import type { ThrashOptions } from '../core/metrics.js';
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

