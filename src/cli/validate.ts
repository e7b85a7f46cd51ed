/**
 * DOC: `svmsim validate TRACE --kernel-log FILE | --stats BEFORE AFTER` — model against machine
 *
 * Replays the trace and checks the model against what a real kernel did: its DEBUG_VM log
 * (src/validate/align.ts) and/or its debugfs GT stats snapshots (src/validate/stats.ts).
 * Exit 0 when everything agrees, 1 at a divergence, 2 for bad input (including a log without any
 * Xe SVM line, and a stats snapshot of another kernel's counter list).
 */

import { Simulator } from '../core/simulator.js';
import { kernelLogJson, renderKernelLog, renderStats, statsJson, type KernelLogReport } from '../report/validate.js';
import { parsePlatformSettings, PLATFORM_ALIASES, TraceInputError, type TraceFormat } from '../trace/index.js';
import { align, modelLines } from '../validate/align.js';
import { openCapture } from '../validate/capture.js';
import { newLogCounts, noSvmLinesHelp, pickVm, type VmPick } from '../validate/dmesg.js';
import { checkCounterList, compareStats, parseStats } from '../validate/stats.js';
import { EXIT_DIFFERENT, EXIT_OK, UsageError } from './errors.js';
import type { CliIo } from './main.js';
import type { ValidateOpts } from './commands.js';
import { DEFAULT_DMESG } from '../report/dmesg.js';
import { cliPlatformOf } from './settings.js';
import { openInput } from './input.js';
import { buildPlatform } from '../replay/replay.js';

export async function runValidate(
  trace: string,
  o: ValidateOpts,
  io: CliIo,
  detect: (f: string, x?: string) => TraceFormat | undefined,
): Promise<number> {
  if (o.kernelLog === undefined && o.stats === undefined)
    throw new UsageError('validate: give --kernel-log FILE and/or --stats BEFORE AFTER');
  if (o.stats !== undefined && o.stats.length !== 2)
    throw new UsageError(`--stats: expected two files, BEFORE and AFTER (got ${o.stats.length})`);
  const gt = o.gt;
  const usTolerancePct = o.usTolerance;
  const fromCli = cliPlatformOf(o.kernel === undefined ? [] : [['kernel', o.kernel, `--kernel ${o.kernel}`]], o.set, {
    parsePlatformSettings,
    PLATFORM_ALIASES,
  });
  const format = detect(trace, o.inputFormat);
  // One pass over the trace (it may be stdin): one simulator serves both checks.
  const h = await openInput(io, trace, format);
  const platform = buildPlatform(h.platform, fromCli);
  if (o.stats !== undefined && gt > (platform.mediaGt ? 1 : 0))
    throw new UsageError(`--gt ${gt}: this platform has gt0${platform.mediaGt ? ' and gt1' : ' only'}`);
  // Snapshots are small: read and check them before the (possibly long) replay.
  const snaps =
    o.stats === undefined
      ? undefined
      : await Promise.all(o.stats.map(async (f) => parseStats(await io.readText(f), f)));
  for (const snap of snaps ?? []) checkCounterList(snap, platform.kernel);
  const withLog = o.kernelLog !== undefined;
  const sim = new Simulator(platform, { record: withLog, debugVm: withLog });
  const out: string[] = [];
  const docs: Record<string, unknown>[] = [];
  let failed = false;

  if (o.kernelLog !== undefined) {
    const counts = newLogCounts();
    const pick: VmPick = { asid: o.asid, otherAsids: new Map() };
    const log = openCapture(o.kernelLog, counts);
    const obs = pickVm(log.observations, pick);
    // The log's VM is --asid (default: the first one in the log); the model's is the process --pid
    // (default: the trace's first process).
    const result = await align(obs, modelLines(h.events, sim, DEFAULT_DMESG, o.pid), log.alphabet);
    // A log without any Xe SVM line cannot show that DEBUG_VM printing was on: bad input, unless the
    // model expects no line either (then both agree on nothing).
    if (log.kind === 'dmesg' && counts.svm === 0 && result.labels.some((l) => l.model > 0))
      throw noSvmLinesHelp(o.kernelLog, counts);
    if (o.asid !== undefined && result.labels.every((l) => l.kernel === 0)) {
      const vms = [...pick.otherAsids.keys()].sort((a, b) => a - b);
      throw new TraceInputError(o.kernelLog, 0, `no line of asid ${o.asid}; the log has asid ${vms.join(', ')}`);
    }
    const report: KernelLogReport = {
      trace,
      log: o.kernelLog,
      kernel: platform.kernel,
      asid: pick.asid,
      otherAsids: [...pick.otherAsids.entries()].sort((a, b) => a[0] - b[0]),
      counts,
      result,
    };
    if (result.divergence !== undefined) failed = true;
    out.push(renderKernelLog(report));
    docs.push(kernelLogJson(report));
  } else {
    for (const e of h.events) sim.step(e.core);
  }

  if (o.stats !== undefined && snaps !== undefined) {
    const [bf, af] = o.stats;
    const [before, after] = snaps;
    const counters = new Map<string, number>(sim.snapshot().stats.find((s) => s.gt === gt)!.counters);
    const r = compareStats(before, after, counters, { gt, kernel: platform.kernel, usTolerancePct });
    if (r.failures > 0) failed = true;
    out.push(renderStats(r, bf, af));
    docs.push(statsJson(r, bf, af));
  }

  if (o.format === 'json')
    io.stdout(
      JSON.stringify({ svmsim: 'validate', verdict: failed ? 'diverge' : 'agree', checks: docs }, null, 2) + '\n',
    );
  else io.stdout(out.join('\n'));
  return failed ? EXIT_DIFFERENT : EXIT_OK;
}
