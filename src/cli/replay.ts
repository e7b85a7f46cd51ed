/**
 * DOC: Replay driver
 *
 * Glue between a parsed trace, the simulator and a reporter: builds the platform (defaults for
 * the kernel, then the trace header, then command-line overrides), replays every event in order
 * and hands each result to the reporter. No formatting here, no exit codes.
 */

import type { CoreEvent } from '../core/events.js';
import { defaultPlatform, type KernelVersion, type Platform } from '../core/platform.js';
import { Simulator } from '../core/simulator.js';
import type { EventEcho, Reporter } from '../report/reporter.js';
import type { ParsedEvent } from '../trace/index.js';

/** defaults(kernel) ← trace header ← command line. The kernel decides the version defaults. */
export function buildPlatform(fromTrace: Partial<Platform>, fromCli: Partial<Platform>): Platform {
  const kernel: KernelVersion = fromCli.kernel ?? fromTrace.kernel ?? '6.18';
  return { ...defaultPlatform(kernel), ...fromTrace, ...fromCli, kernel };
}

/** Op-specific fields of an event, for the report. */
export function echoFields(ev: CoreEvent): [string, string][] {
  switch (ev.op) {
    case 'mmap':
      return [
        ['prot', ev.prot],
        ['kind', ev.kind],
      ];
    case 'mprotect':
      return [['prot', ev.prot]];
    case 'madvise':
      return [['advice', ev.advice]];
    case 'gpu_fault':
      return [['access', ev.access]];
    case 'xe_prefetch':
      return [['region', ev.region]];
    case 'xe_madvise':
      return ev.preferred !== undefined ? [['preferred', ev.preferred]] : ev.atomic !== undefined ? [['atomic', ev.atomic]] : [];
    default:
      return [];
  }
}

export function echoOf(e: ParsedEvent): EventEcho {
  return { line: e.line, t: e.core.t, op: e.core.op, addr: e.addr, size: e.size, fields: echoFields(e.core) };
}

/** Replay events through a fresh simulator, reporting as it goes. */
export function replay(events: Iterable<ParsedEvent>, platform: Platform, reporter: Reporter, checkInvariants = false): Simulator {
  const sim = new Simulator(platform, { checkInvariants });
  reporter.begin(platform);
  for (const e of events) reporter.event(echoOf(e), sim.step(e.core));
  reporter.end(sim.snapshot());
  return sim;
}
