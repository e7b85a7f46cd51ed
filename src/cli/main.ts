/**
 * DOC: Command line
 *
 * Thin: parse arguments (commander), read the trace, call the replay driver with a reporter,
 * write the output. Every failure goes through describeFailure() (errors.ts), the one place that
 * maps errors to exit codes. `main()` takes its I/O as arguments so tests run it in-process.
 */

import type { Command } from '@commander-js/extra-typings';
import { statSync } from 'node:fs';
import type { Platform } from '../core/platform.js';
import type { ReportOptions, TraceId } from '../report/reporter.js';
import type { TempStore } from '../report/spill.js';
import type { TraceInputError } from '../trace/index.js';
import { describeFailure, EXIT_BAD_INPUT, EXIT_OK, UsageError } from './errors.js';
import type { CompareJob, CompareJobResult } from './compare.js';
import {
  captureCommand,
  checkCommand,
  compareCommand,
  completionCommand,
  diffCommand,
  genCommand,
  importCommand,
  replayCommand,
  reportCommand,
  rootCommand,
  testCommand,
  validateCommand,
  type ReplayOpts,
} from './commands.js';
import type { ImplicitMmapStats } from '../trace/implicit-mmap.js';
import {
  chunkEnd,
  heldSink,
  jsonRecordEnd,
  lineEnd,
  OutputClosed,
  outputFor,
  refuseOutputOverInput,
  yieldToSignals,
  type OutputFile,
} from './output.js';
import { TraceInputErrors } from './errors.js';
import { VERSION } from './version.js';
import { cliPlatformOf, type PlatformRules } from './settings.js';

/**
 * A trace file at least this large (~100K events) is replayed after warming the model up
 * (replay.ts warmUpModel(): ~10 ms, which saves a recompile of its hot functions mid-replay).
 */
const WARM_UP_BYTES = 4 << 20;

// Start-up: what a command needs is loaded when it runs (`--version` and `--help` load only commander).
const loadTrace = () => import('../trace/index.js');

export interface CliIo {
  /** Write to stdout; false when its reader has gone away (EPIPE): later writes are dropped. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a sink may return nothing; only an explicit false means EPIPE
  stdout: (s: string) => boolean | void;
  /** Write UTF-8 bytes to stdout before returning (as stdout; absent: strings only). */
  // biome-ignore lint/suspicious/noConfusingVoidType: as stdout
  stdoutBytes?: (b: Uint8Array) => boolean | void;
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
  progress?: (totalBytes: number) => Promise<{ update(bytes: number, events: number): void; stop(): void }>;
}

/**
 * Command-line platform overrides, parsed with the same rules as a trace header. A knob given
 * twice (two --set, or --vram and --set vram=, or a knob and its alias) is refused.
 */
function cliPlatform(o: ReplayOpts, rules: PlatformRules): Partial<Platform> {
  const flags: [string, string, string][] = [];
  if (o.kernel !== undefined) flags.push(['kernel', o.kernel, `--kernel ${o.kernel}`]);
  if (o.vram !== undefined) flags.push(['vram', o.vram, `--vram ${o.vram}`]);
  if (o.igpu) flags.push(['dgfx', 'false', '--igpu']);
  if (o.need64k) flags.push(['need64k', 'true', '--need64k']);
  if (o.notifierSize !== undefined) flags.push(['notifier_size', o.notifierSize, `--notifier-size ${o.notifierSize}`]);
  if (o.atomicTimesliceMs !== undefined)
    flags.push(['atomic_timeslice_ms', String(o.atomicTimesliceMs), `--atomic-timeslice-ms ${o.atomicTimesliceMs}`]);
  if (o.hz !== undefined) flags.push(['hz', o.hz, `--hz ${o.hz}`]);
  if (!o.mediaGt) flags.push(['media_gt', 'false', '--no-media-gt']);
  if (o.costModel !== undefined) flags.push(['cost_model', o.costModel, `--cost-model ${o.costModel}`]);
  if (o.alwaysMigrateToVram) flags.push(['always_migrate_to_vram', 'true', '--always-migrate-to-vram']);
  return cliPlatformOf(flags, o.set, rules);
}

async function runReplay(trace: string, o: ReplayOpts, io: CliIo): Promise<void> {
  const [
    trace$,
    { createReporter },
    { buildPlatform, implicitMmapNote, replayYielding, unmappedFaultWatch },
    { thrashOptions, dmesgOptions },
    { openInput },
    { withImplicitMmap },
    { DEFAULT_DMESG },
  ] = await Promise.all([
    loadTrace(),
    import('../report/reporter.js'),
    import('../replay/replay.js'),
    import('./options.js'),
    import('./input.js'),
    import('../trace/implicit-mmap.js'),
    import('../report/dmesg.js'),
  ]);
  if (o.byRange && o.format !== 'table') throw new UsageError('--by-range applies to --format table');
  const gt = o.gt;
  const { detectFormat, sha256File } = trace$;
  const fromCli = cliPlatform(o, trace$);
  const format = detectFormat(trace, o.inputFormat);
  const maxErrors = o.maxErrors;
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
  const trace_: TraceId = {
    name: trace === '-' ? '<stdin>' : trace,
    sha256: wantsId && trace !== '-' && statSync(trace).isFile() ? sha256File(trace) : null,
  };
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
  // Until the end only whole records go out (a replay failing mid-trace leaves no half-written one).
  const recordEnd =
    o.format === 'json' ? jsonRecordEnd : o.format === 'perfetto' || o.format === 'debugfs' ? chunkEnd : lineEnd;
  const { sink, bytes, flush } = heldSink(out.write, out.writeBytes, recordEnd);
  const color = toFile ? 0 : o.color === false ? 0 : o.color === true ? Math.max(io.colorLevel, 1) : io.colorLevel;
  const ropts: ReportOptions = {
    format: o.format,
    bytes,
    byRange: o.byRange,
    summary: o.summary,
    noEvents: !o.events,
    gt,
    trace: trace_,
    color: color as 0 | 1 | 2 | 3,
    version: VERSION,
    tempStore: io.tempStore,
    dmesg: dmesgOptions(o, DEFAULT_DMESG),
  };
  const bar = handle.totalBytes > 32 << 20 ? await io.progress?.(handle.totalBytes) : undefined;
  try {
    await replayYielding(handle.events, platform, createReporter(ropts, sink), {
      checkInvariants: o.checkInvariants ?? false,
      thrash: thrashOptions(o),
      onProgress: bar ? (n) => bar.update(handle.bytesRead, n) : undefined,
      onResult: watch?.see,
      pause: yieldToSignals,
      warmUp: handle.totalBytes >= WARM_UP_BYTES,
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

/** The command line: commands (commands.ts) with their actions. `setCode` takes a command's verdict. */
export function program(io: CliIo, setCode: (code: number) => void = () => {}): Command {
  const root = rootCommand()
    .version(VERSION)
    .exitOverride()
    // Commander's messages reach stderr through describeFailure (errors.ts), as every other failure.
    .configureOutput({ writeOut: (s) => void io.stdout(s), writeErr: io.stderr, outputError: () => {} })
    .showHelpAfterError(false);
  // Before any command reads: `-o` must not name one of its inputs (every command with --output).
  // Every positional argument is taken for an input file, except those that are not paths (gen's pattern).
  root.hook('preAction', (_root, action) => {
    const out = action.opts().output;
    if (typeof out !== 'string') return;
    const names = action.registeredArguments.map((a) => a.name());
    refuseOutputOverInput(
      io,
      out,
      action.args.filter((_, i) => !NOT_PATHS.has(names[i] ?? '')),
    );
  });

  replayCommand(root).action((trace, o) => runReplay(trace, o, io));
  compareCommand(root).action(async (traces, o) => {
    const [m, t] = await Promise.all([import('./compare.js'), loadTrace()]);
    await m.runCompare(traces, o, io, t.detectFormat);
  });
  reportCommand(root).action(async (trace, o) => {
    const [m, t] = await Promise.all([import('./report.js'), loadTrace()]);
    await m.runReport(trace, o, io, VERSION, t.detectFormat);
  });
  diffCommand(root).action(async (a, b, o) => setCode(await (await import('./diff.js')).runDiff(a, b, o, io)));
  testCommand(root).action(async (paths, o) => setCode(await (await import('./test.js')).runTest(paths, o, io)));
  validateCommand(root).action(async (trace, o) => {
    const [m, t] = await Promise.all([import('./validate.js'), loadTrace()]);
    setCode(await m.runValidate(trace, o, io, t.detectFormat));
  });
  checkCommand(root).action(async (trace, o) => {
    const [m, t] = await Promise.all([import('./check.js'), loadTrace()]);
    await m.runCheck(trace, o, io, t.detectFormat);
  });
  genCommand(root).action(async (pattern, o) => (await import('./gen.js')).runGen(pattern, o, io));
  importCommand(root).action(async (file, o) => (await import('./import.js')).runImport(file, o, io));
  captureCommand(root).action(async (o) => (await import('./import.js')).runCapture(o, io));
  completionCommand(root).action(async (shell) => {
    const { completionScript } = await import('./completion.js');
    io.stdout(completionScript(shell, root));
  });
  return root;
}

/** Positional arguments that are never file paths. */
const NOT_PATHS = new Set(['pattern', 'shell']);

/** Run the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let code = EXIT_OK;
  try {
    const cmd = program(io, (c) => {
      code = c;
    });
    if (argv.length === 0) {
      cmd.outputHelp();
      return EXIT_BAD_INPUT;
    }
    await cmd.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // stdout's reader went away: stop quietly with the verdict reached so far.
    if (err instanceof OutputClosed) return code;
    const f = describeFailure(err);
    if (f.message !== '') io.stderr(f.message + '\n');
    return f.code;
  }
}
