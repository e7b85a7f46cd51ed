/**
 * DOC: Command line
 *
 * Thin: parse arguments (commander), read the trace, call the replay driver with a reporter,
 * write the output. Every failure goes through describeFailure() (errors.ts), the one place that
 * maps errors to exit codes. `main()` takes its I/O as arguments so tests run it in-process.
 */

import { Command, CommanderError, Option } from 'commander';
import { statSync } from 'node:fs';
import { KERNEL_VERSIONS, type Platform } from '../core/platform.js';
import { PATTERN_DOCS, PATTERNS } from '../gen/generate.js';
import type { ReportOptions, TraceId } from '../report/reporter.js';
import type { TempStore } from '../report/spill.js';
import type { TraceFormat, TraceInputError } from '../trace/index.js';
import { describeFailure, EXIT_BAD_INPUT, EXIT_OK, UsageError } from './errors.js';
import type { GenCliOpts } from './gen.js';
import type { CheckOpts } from './check.js';
import type { CompareJob, CompareJobResult, CompareOpts } from './compare.js';
import type { DiffOpts } from './diff.js';
import type { ReportCliOpts } from './report.js';
import type { ValidateOpts } from './validate.js';
import type { ImplicitMmapStats } from '../trace/implicit-mmap.js';
import { addImportCommands } from './import.js';
import type { TestOpts } from './test.js';
import { heldSink, OutputClosed, outputFor, refuseOutputOverInput, yieldToSignals, type OutputFile } from './output.js';
import { TraceInputErrors } from './errors.js';
import { VERSION } from './version.js';
import type { DmesgCliOpts } from './options.js';

// Start-up: what a command needs is loaded when it runs (`--version` and `--help` load only commander).
const loadTrace = () => import('../trace/index.js');

export { VERSION };

export interface CliIo {
  /** Write to stdout; false when its reader has gone away (EPIPE): later writes are dropped. */
  stdout: (s: string) => boolean | void;
  stderr: (s: string) => void;
  /** Read a file, or stdin for '-'. */
  readText: (path: string) => Promise<string>;
  /** A blocking descriptor on stdin, for streaming it (absent or undefined: stdin is read whole with readText). */
  openStdin?: () => number | undefined;
  /** Device and inode of the regular file on stdin, if it is one (to refuse `-o` over it). */
  stdinFile?: () => { dev: number; ino: number } | undefined;
  /** Write a whole file atomically (temporary file + rename). */
  writeFileAtomic: (path: string, text: string) => Promise<void>;
  /** Stream chunks to a file, atomically on close (temporary file + rename); abort leaves no file. */
  openOutput: (path: string) => OutputFile;
  /** Temporary storage for reports that spill sorted runs (by-range, perfetto); absent: memory. */
  tempStore?: () => TempStore;
  /** Run compare jobs on worker threads (up to `workers`, default all cores); absent: in-process. */
  runCompareJobs?: (jobs: CompareJob[], workers?: number) => Promise<CompareJobResult[]>;
  /** Colour level for stdout: 0 when not a TTY or NO_COLOR is set. */
  colorLevel: 0 | 1 | 2 | 3;
  /** A progress display on stderr, when stderr is a terminal (never in pipes or CI). */
  progress?: (totalBytes: number) => { update(bytes: number, events: number): void; stop(): void };
}

interface ReplayOpts extends DmesgCliOpts {
  format: 'table' | 'json' | 'jsonl' | 'debugfs' | 'perfetto' | 'dmesg';
  byRange?: boolean;
  summary?: boolean;
  events: boolean;
  gt?: string;
  output?: string;
  inputFormat?: TraceFormat;
  kernel?: string;
  vram?: string;
  igpu?: boolean;
  need64k?: boolean;
  notifierSize?: string;
  atomicTimesliceMs?: string;
  hz?: string;
  mediaGt: boolean;
  alwaysMigrateToVram?: boolean;
  costModel?: string;
  set: string[];
  checkInvariants?: boolean;
  color?: boolean;
  maxErrors: string;
  thrashThreshold: string;
  thrashWindow: string;
  implicitMmap?: boolean;
}

const collect = (v: string, prev: string[]) => prev.concat([v]);

/**
 * Command-line platform overrides, parsed with the same rules as a trace header. A knob given
 * twice (two --set, or --vram and --set vram=, or a knob and its alias) is refused.
 */
function cliPlatform(o: ReplayOpts, parsePlatformSettings: (s: Record<string, string>, where: string) => Partial<Platform>): Partial<Platform> {
  const settings: Record<string, string> = Object.create(null) as Record<string, string>;
  const from: Record<string, string> = Object.create(null) as Record<string, string>;
  const put = (k: string, v: string, flag: string) => {
    if (Object.hasOwn(settings, k)) throw new UsageError(`${flag}: platform knob "${k}" is already given (${from[k]})`);
    settings[k] = v;
    from[k] = flag;
  };
  if (o.kernel !== undefined) put('kernel', o.kernel, `--kernel ${o.kernel}`);
  if (o.vram !== undefined) put('vram', o.vram, `--vram ${o.vram}`);
  if (o.igpu) put('dgfx', 'false', '--igpu');
  if (o.need64k) put('need64k', 'true', '--need64k');
  if (o.notifierSize !== undefined) put('notifier_size', o.notifierSize, `--notifier-size ${o.notifierSize}`);
  if (o.atomicTimesliceMs !== undefined) put('atomic_timeslice_ms', o.atomicTimesliceMs, `--atomic-timeslice-ms ${o.atomicTimesliceMs}`);
  if (o.hz !== undefined) put('hz', o.hz, `--hz ${o.hz}`);
  if (o.mediaGt === false) put('media_gt', 'false', '--no-media-gt');
  if (o.costModel !== undefined) put('cost_model', o.costModel, `--cost-model ${o.costModel}`);
  if (o.alwaysMigrateToVram) put('always_migrate_to_vram', 'true', '--always-migrate-to-vram');
  for (const kv of o.set) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${kv}: expected knob=value`);
    put(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim(), `--set ${kv}`);
  }
  return parsePlatformSettings(settings, 'command line');
}

async function runReplay(trace: string, o: ReplayOpts, io: CliIo): Promise<void> {
  const [{ detectFormat, parsePlatformSettings, sha256File }, { createReporter }, { buildPlatform, implicitMmapNote, replayYielding, unmappedFaultWatch }, { thrashOptions, dmesgOptions }, { openInput }, { withImplicitMmap }] = await Promise.all([
    loadTrace(),
    import('../report/reporter.js'),
    import('../replay/replay.js'),
    import('./options.js'),
    import('./input.js'),
    import('../trace/implicit-mmap.js'),
  ]);
  if (o.byRange && o.format !== 'table') throw new UsageError('--by-range applies to --format table');
  const gt = o.gt === undefined ? 0 : Number(o.gt);
  if (!Number.isInteger(gt) || gt < 0) throw new UsageError(`--gt ${o.gt}: expected a GT number (0 or 1)`);
  const fromCli = cliPlatform(o, parsePlatformSettings);
  const format = detectFormat(trace, o.inputFormat);
  const maxErrors = Number(o.maxErrors);
  if (!Number.isInteger(maxErrors) || maxErrors < 1) throw new UsageError(`--max-errors ${o.maxErrors}: expected a positive integer`);
  // With --max-errors N > 1, bad lines are collected (and skipped) until N, then reported together.
  const errors: TraceInputError[] = [];
  const onError =
    maxErrors > 1
      ? (e: TraceInputError) => {
          errors.push(e);
          if (errors.length >= maxErrors) throw new TraceInputErrors(errors);
        }
      : undefined;
  let handle = await openInput(io, trace, format, onError);
  // The result records the trace's sha256: regular files only (a FIFO or stdin can be read once).
  const wantsId = o.format === 'json' || o.format === 'jsonl';
  const trace_: TraceId = { name: trace === '-' ? '<stdin>' : trace, sha256: wantsId && trace !== '-' && statSync(trace).isFile() ? sha256File(trace) : null };
  if (onError !== undefined) handle = { ...handle, events: failAtEnd(handle.events, errors) };
  const implicit: ImplicitMmapStats = { added: 0 };
  if (o.implicitMmap) handle = { ...handle, events: withImplicitMmap(handle.events, implicit) };
  const watch = o.implicitMmap ? undefined : unmappedFaultWatch();
  const platform = buildPlatform(handle.platform, fromCli);
  if (o.format === 'debugfs' && gt > (platform.mediaGt ? 1 : 0)) {
    throw new UsageError(`--gt ${gt}: this platform has gt0${platform.mediaGt ? ' and gt1' : ' only'}`);
  }

  const toFile = o.output !== undefined;
  const out = outputFor(io, o.output);
  const { sink, flush } = heldSink(out.write);
  const color = toFile ? 0 : o.color === false ? 0 : o.color === true ? Math.max(io.colorLevel, 1) : io.colorLevel;
  const ropts: ReportOptions = {
    format: o.format,
    byRange: o.byRange,
    summary: o.summary,
    noEvents: !o.events,
    gt,
    trace: trace_,
    color: color as 0 | 1 | 2 | 3,
    version: VERSION,
    tempStore: io.tempStore,
    dmesg: dmesgOptions(o),
  };
  const bar = handle.totalBytes > 32 << 20 ? io.progress?.(handle.totalBytes) : undefined;
  try {
    await replayYielding(handle.events, platform, createReporter(ropts, sink), {
      checkInvariants: o.checkInvariants ?? false,
      thrash: thrashOptions(o),
      onProgress: bar ? (n) => bar.update(handle.bytesRead, n) : undefined,
      onResult: watch?.see,
      pause: yieldToSignals,
    });
    flush();
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    bar?.stop();
  }
  await out.close();
  io.stderr(implicitMmapNote(implicit, watch?.first()));
}

/** Pass events through; at the end, throw the collected errors (before the report's summary). */
function failAtEnd<T>(events: Iterable<T>, errors: TraceInputError[]): Iterable<T> {
  return {
    *[Symbol.iterator]() {
      yield* events;
      if (errors.length > 0) throw new TraceInputErrors(errors);
    },
  };
}

function program(io: CliIo, run: (p: Promise<void>) => void, setCode: (code: number) => void): Command {
  const cmd = new Command('svmsim')
    .description('Replay CPU/GPU memory traces through a model of the Linux Intel Xe SVM stack')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  // Before any command reads: `-o` must not name one of its inputs (every command with --output).
  // Every positional argument is taken for an input file, except those that are not paths (gen's pattern).
  cmd.hook('preAction', (_root, action) => {
    const out = action.opts().output;
    if (typeof out !== 'string') return;
    const names = action.registeredArguments.map((a) => a.name());
    refuseOutputOverInput(io, out, action.args.filter((_, i) => !NOT_PATHS.has(names[i] ?? '')));
  });

  cmd
    .command('replay')
    .description('replay a trace and print what the kernel would decide, per event, and the GT stats')
    .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'jsonl', 'debugfs', 'perfetto', 'dmesg']).default('table'))
    .option('--dmesg-asid <n>', 'dmesg: the VM asid printed (default 1)')
    .option('--dmesg-gpusvm <ptr>', 'dmesg: the gpusvm pointer printed, hex (default 00000000deadbeef)')
    .option('--dmesg-pci <addr>', 'dmesg: the PCI address printed (default 0000:03:00.0)')
    .option('--by-range', 'table: group decisions per range')
    .option('--summary', 'table: only the final ranges and stats')
    .option('--no-events', 'json, jsonl: leave out the per-event decisions')
    .option('--gt <n>', 'debugfs: which GT to print (0 primary, 1 media)', '0')
    .option('-o, --output <file>', 'write the output to a file (atomically) instead of stdout')
    .addOption(new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(['json', 'jsonl', 'csv']))
    .addOption(new Option('-k, --kernel <version>', 'kernel profile (default 6.18)').choices([...KERNEL_VERSIONS]))
    .option('--vram <size>', 'VRAM of tile 0, e.g. 16G (default 16G)')
    .option('--igpu', 'integrated GPU: no VRAM, nothing migrates (dgfx=false)')
    .option('--need64k', 'platform with XE_VRAM_FLAGS_NEED64K (PVC-class)')
    .option('--notifier-size <size>', 'svm_notifier_size, e.g. 512M (default 512M)')
    .option('--atomic-timeslice-ms <ms>', 'atomic_svm_timeslice_ms (default 5)')
    .option('--hz <hz>', 'kernel HZ for timeslice rounding (default 250)')
    .option('--no-media-gt', 'tile without a media GT (no gt1)')
    .option('--always-migrate-to-vram', '6.15-rc1 module parameter always_migrate_to_vram')
    .addOption(new Option('--cost-model <model>', 'how _us counters are estimated').choices(['bmg', 'zero']))
    .option('--set <knob=value>', 'set any platform knob (repeatable), e.g. --set gc=lazy', collect, [])
    .option('--check-invariants', 'check every model invariant after each event (slower)')
    .option('--max-errors <n>', 'list up to N bad lines instead of stopping at the first', '1')
    .option('--thrash-threshold <n>', 'round trips VRAM→RAM→VRAM that make a range thrash', '3')
    .option('--thrash-window <time>', 'largest gap between migrations of a thrashing range', '500us')
    .option('--implicit-mmap', 'faults-only recording: map an anonymous rw 2M block around every touched address first')
    .option('--color', 'force colour')
    .option('--no-color', 'never colour')
    .action((trace: string, o: ReplayOpts) => run(runReplay(trace, o, io)));
  cmd
    .command('compare')
    .description('replay traces under several kernels / platforms and compare counters and derived figures in one table per trace')
    .argument('[traces...]', 'trace files (.json, .jsonl, .csv) or - for stdin; with --merge, the partial results')
    .option('-k, --kernel <list>', 'kernel profiles, comma separated, e.g. 6.15,6.16,6.17,6.18')
    .option('--vram <list>', 'VRAM sizes, comma separated, e.g. 4G,16G')
    .option('--set <knob=values>', 'any platform knob with comma-separated values (repeatable), e.g. need64k=true,false', collect, [])
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'markdown', 'csv', 'json']).default('table'))
    .option('--all', 'show every counter, also rows that are 0 everywhere')
    .addOption(new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(['json', 'jsonl', 'csv']))
    .option('-o, --output <file>', 'write to a file (atomically) instead of stdout')
    .option('--thrash-threshold <n>', 'round trips that make a range thrash', '3')
    .option('--thrash-window <time>', 'largest gap between migrations of a thrashing range', '500us')
    .option('-j, --jobs <n>', 'worker threads (default: every available core)')
    .option('--shard <I/N>', 'run only slice I of N of the traces x combinations grid; write a partial result')
    .option('--merge', 'combine the partial results given as arguments into the full output')
    .action((traces: string[], o: CompareOpts) => run(Promise.all([import('./compare.js'), loadTrace()]).then(([m, t]) => m.runCompare(traces, o, io, t.detectFormat))));

  cmd
    .command('report')
    .description('write one self-contained HTML report: VRAM and traffic over time, range timelines, thrashing, GT stats')
    .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
    .option('-o, --output <file>', 'write the HTML to a file (atomically) instead of stdout')
    .option('--ranges <n>', 'lanes in the range timeline: the N busiest ranges', '50')
    .option('-k, --kernel <list>', 'kernel profiles to overlay, comma separated, e.g. 6.16,6.18')
    .option('--vram <list>', 'VRAM sizes to overlay, comma separated, e.g. 4G,16G')
    .option('--set <knob=values>', 'any platform knob with comma-separated values (repeatable)', collect, [])
    .addOption(new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(['json', 'jsonl', 'csv']))
    .option('--thrash-threshold <n>', 'round trips that make a range thrash', '3')
    .option('--thrash-window <time>', 'largest gap between migrations of a thrashing range', '500us')
    .action((trace: string, o: ReportCliOpts) => run(Promise.all([import('./report.js'), loadTrace()]).then(([m, t]) => m.runReport(trace, o, io, VERSION, t.detectFormat))));

  cmd
    .command('diff')
    .description('compare two results of `replay --format json|jsonl`: what changed, argument by argument (exit 0 equal, 1 different, 2 bad input)')
    .argument('<a>', 'the reference result (e.g. a stored baseline)')
    .argument('<b>', 'the new result')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'markdown', 'github']).default('text'))
    .option('--ignore-us', 'skip cost-model values (_us counters, copyUs)')
    .option('--ignore <field...>', 'skip these fields anywhere (e.g. bo), one decision\'s field (bo_evict.bo), counters, or trace')
    .option('--max-shown <n>', 'groups of changes and ranges listed in full', '10')
    .option('-o, --output <file>', 'write the report to a file (atomically) instead of stdout')
    .option('--color', 'force colour')
    .option('--no-color', 'never colour')
    .action((a: string, b: string, o: DiffOpts) => run(import('./diff.js').then((m) => m.runDiff(a, b, o, io)).then(setCode)));

  cmd
    .command('test')
    .description('replay every trace under PATHS (default traces/) and check its expect block (exit 0 all pass, 1 some fail, 2 bad input)')
    .argument('[paths...]', 'trace files or directories (searched recursively for .json, .jsonl, .csv)')
    .addOption(new Option('--reporter <reporter>', 'report format besides the summary').choices(['text', 'junit']).default('text'))
    .option('-o, --output <file>', 'junit: write the JUnit XML here')
    .option('-u, --update', 'write the actual values into failing expectations (in place, keeping the file as it is otherwise)')
    .option('-j, --jobs <n>', 'worker threads (default: all cores)')
    .option('--color', 'force colour')
    .option('--no-color', 'never colour')
    .action((paths: string[], o: TestOpts) => run(import('./test.js').then((m) => m.runTest(paths, o, io)).then(setCode)));

  cmd
    .command('validate')
    .description('check the model against a real machine: its DEBUG_VM kernel log and/or GT stats snapshots (exit 0 agree, 1 diverge, 2 bad input)')
    .argument('<trace>', 'the trace of the workload (.json, .jsonl, .csv) or - for stdin')
    .option('--kernel-log <file>', 'dmesg / journalctl -k log of a CONFIG_DRM_XE_DEBUG_VM kernel (or `svmsim import --from dmesg` output)')
    .option('--stats <files...>', 'gtN/stats snapshots read BEFORE and AFTER the workload')
    .option('--gt <n>', 'which GT the stats snapshots are of (0 primary, 1 media)', '0')
    .option('--asid <n>', 'the VM to check when the log has several (default: the first)')
    .option('--pid <n>', 'with a multi-process trace: the process whose VM the log shows (default: the first process)')
    .option('--us-tolerance <pct>', 'fail _us counters further than PCT percent from the model (default: shown, never fail)')
    .addOption(new Option('-k, --kernel <version>', 'kernel profile (default: trace header, else 6.18)').choices([...KERNEL_VERSIONS]))
    .option('--set <knob=value>', 'set any platform knob (repeatable)', collect, [])
    .addOption(new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(['json', 'jsonl', 'csv']))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((trace: string, o: ValidateOpts) => run(Promise.all([import('./validate.js'), loadTrace()]).then(([m, t]) => m.runValidate(trace, o, io, t.detectFormat)).then(setCode)));

  cmd
    .command('check')
    .description('validate a trace without replaying it, and lint it (munmap of nothing, accesses to unmapped memory, ...)')
    .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
    .addOption(new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(['json', 'jsonl', 'csv']))
    .option('--max-errors <n>', 'stop after N errors (default: all)')
    .addOption(new Option('-k, --kernel <version>', 'kernel profile for the lints').choices([...KERNEL_VERSIONS]))
    .action((trace: string, o: CheckOpts) => run(Promise.all([import('./check.js'), loadTrace()]).then(([m, t]) => m.runCheck(trace, o, io, t.detectFormat))));

  cmd
    .command('gen')
    .description('write a deterministic synthetic trace (CSV or JSONL) for a common access pattern')
    .argument('<pattern>', `one of ${PATTERNS.join(', ')}`)
    .option('-n, --events <n>', 'number of events', '100000')
    .option('--size <size>', 'working-set size, e.g. 256M', '256M')
    .option('--seed <n>', 'PRNG seed (same seed, same trace)', '1')
    .option('--base <addr>', 'base address of the working set', '0x7f0000000000')
    .option('--step <time>', 'mean time between events, e.g. 1us', '1us')
    .addOption(new Option('--format <format>', 'trace encoding (default: jsonl for -o FILE.jsonl, else csv)').choices(['csv', 'jsonl']))
    .option('--vram <size>', 'write a platform header with this VRAM size (oversub: default half of --size)')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText('after', `\nPatterns:\n${PATTERNS.map((p) => `  ${p.padEnd(10)} ${PATTERN_DOCS[p]}`).join('\n')}`)
    .action((pattern: string, o: GenCliOpts) => run(import('./gen.js').then((m) => m.runGen(pattern, o, io))));
  addImportCommands(cmd, io, run);
  return cmd;
}

/** Positional arguments that are never file paths. */
const NOT_PATHS = new Set(['pattern']);

/** Run the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let pending: Promise<void> | undefined;
  let code = EXIT_OK;
  try {
    const cmd = program(
      io,
      (p) => {
        pending = p;
      },
      (c) => {
        code = c;
      },
    );
    if (argv.length === 0) {
      cmd.outputHelp();
      return EXIT_BAD_INPUT;
    }
    cmd.parse(argv, { from: 'user' });
    if (pending !== undefined) await pending;
    return code;
  } catch (err) {
    // stdout's reader went away: stop quietly with the verdict reached so far.
    if (err instanceof OutputClosed) return code;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK;
      return EXIT_BAD_INPUT;
    }
    const f = describeFailure(err);
    if (f.message !== '') io.stderr(f.message + '\n');
    return f.code;
  }
}
