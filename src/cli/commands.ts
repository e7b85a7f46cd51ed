/**
 * DOC: The commands and their options — the one description of the command line
 *
 * Every command, argument and option is declared here once, with commander's own means: typed
 * options (`@commander-js/extra-typings` infers each command's option types from these
 * declarations; the commands' `*Opts` types below are derived, never written by hand),
 * `argParser` for numbers, sizes, times and addresses (options.ts), `.choices()` for enums, and
 * an "Examples:" block after each command's `--help` (EXAMPLES, run by a test on the bundled
 * traces). `svmsim completion bash|zsh|fish` (completion.ts) and the README's option lists (a
 * test compares them) are derived from the same declarations.
 *
 * No behaviour here: main.ts attaches each command's action.
 */

import { Argument, Command, Option } from '@commander-js/extra-typings';
import { KERNEL_VERSIONS } from '../core/platform.js';
import { PATTERN_DOCS, PATTERNS } from '../gen/generate.js';
import { IMPORTERS } from '../import/registry.js';
import {
  address,
  asid,
  choiceList,
  collect,
  duration,
  gpusvmPointer,
  integer,
  nonNegativeInt,
  nonNegativeNumber,
  pciAddress,
  positiveInt,
  shard,
  size,
  sizeList,
} from './options.js';

const TRACE_ENCODINGS = ['json', 'jsonl', 'csv'] as const;
const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** `--from` kinds that are not trace importers: a DEBUG_VM kernel log becomes an observation log. */
export const DMESG = 'dmesg';
const HZ = ['100', '250', '300', '1000'] as const;

const inputFormat = () =>
  new Option('--input-format <format>', 'trace encoding (default: by extension)').choices(TRACE_ENCODINGS);
const thrashThreshold = (what: string) => new Option('--thrash-threshold <n>', what).argParser(positiveInt).default(3);
const thrashWindow = () =>
  new Option('--thrash-window <time>', 'largest gap between migrations of a thrashing range')
    .argParser(duration)
    .default(500_000, '500us');
const jobs = (dflt: string) => new Option('-j, --jobs <n>', `worker threads (default: ${dflt})`).argParser(positiveInt);

/** One example of a command: what it does, and the command line (run by test/cli/help.test.ts). */
export interface Example {
  what: string;
  run: string;
  /** Exit status of the example when not 0 (diff of two different results: 1). */
  exit?: number;
}

/**
 * The examples printed after each command's --help. They run, in order, in an empty directory
 * holding the bundled traces/ (files written by an example are read by the next ones).
 */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  replay: [
    { what: 'per-event decisions and the GT stats, as a table', run: 'svmsim replay traces/04-atomic-timeslice.json' },
    {
      what: 'gt0/stats as debugfs prints them, under kernel 6.16 with 4 MiB of VRAM',
      run: 'svmsim replay traces/07-vram-pressure.json -f debugfs -k 6.16 --vram 4M',
    },
    {
      what: 'the full result as JSON, for `svmsim diff`',
      run: 'svmsim replay traces/12-need64k.csv -f json -o result.json',
    },
    {
      what: 'a timeline for ui.perfetto.dev',
      run: 'svmsim replay traces/04-atomic-timeslice.json -f perfetto -o timeline.json',
    },
    {
      what: 'a faults-only recording: map memory around every touched address',
      run: 'svmsim replay traces/hmm/migrate_fault.jsonl --implicit-mmap --summary',
    },
  ],
  compare: [
    {
      what: 'one trace under two kernels, side by side',
      run: 'svmsim compare traces/07-vram-pressure.json -k 6.16,6.18',
    },
    {
      what: 'every combination of two VRAM sizes and NEED64K on/off, as Markdown',
      run: 'svmsim compare traces/12-need64k.csv --vram 4M,16G --set need64k=true,false -f markdown',
    },
    {
      what: 'split the grid over two machines, then merge the parts',
      run: 'svmsim compare traces/07-vram-pressure.json -k 6.17,6.18 --shard 1/2 -o part1.json',
    },
    { what: '', run: 'svmsim compare traces/07-vram-pressure.json -k 6.17,6.18 --shard 2/2 -o part2.json' },
    { what: '', run: 'svmsim compare --merge part1.json part2.json' },
  ],
  report: [
    { what: 'one self-contained HTML page', run: 'svmsim report traces/07-vram-pressure.json -o report.html' },
    {
      what: 'two kernels overlaid in one report',
      run: 'svmsim report traces/07-vram-pressure.json -k 6.16,6.18 -o kernels.html',
    },
  ],
  diff: [
    {
      what: 'a baseline and a result under another kernel',
      run: 'svmsim replay traces/07-vram-pressure.json -f json -o base.json',
    },
    { what: '', run: 'svmsim replay traces/07-vram-pressure.json -f json -k 6.16 -o new.json' },
    { what: 'what changed (exit 1: they differ)', run: 'svmsim diff base.json new.json', exit: 1 },
    {
      what: 'the same, for a GitHub job summary, ignoring cost-model values',
      run: 'svmsim diff base.json new.json -f github --ignore-us',
      exit: 1,
    },
  ],
  test: [
    { what: 'check the expect block of every bundled trace', run: 'svmsim test traces/' },
    {
      what: 'one trace, with a JUnit report for CI',
      run: 'svmsim test traces/07-vram-pressure.json --reporter junit -o junit.xml',
    },
  ],
  validate: [
    {
      what: "a DEBUG_VM kernel log (here: the model's own, from replay -f dmesg)",
      run: 'svmsim replay traces/06-munmap-gc.json -f dmesg -o kernel.log',
    },
    {
      what: 'the model against that log (exit 1 at the first divergence)',
      run: 'svmsim validate traces/06-munmap-gc.json --kernel-log kernel.log',
    },
  ],
  check: [
    { what: 'validate and lint a trace without replaying it', run: 'svmsim check traces/14-errors.json' },
    { what: 'the lints of another kernel profile', run: 'svmsim check traces/10-xe-madvise.json -k 6.16' },
  ],
  gen: [
    {
      what: '1000 events streaming over 64 MiB, as CSV',
      run: 'svmsim gen streaming -n 1000 --size 64M -o streaming.csv',
    },
    {
      what: 'oversubscription: a working set larger than the VRAM in the header',
      run: 'svmsim gen oversub -n 1000 --vram 64M --format jsonl -o oversub.jsonl',
    },
    { what: '', run: 'svmsim replay oversub.jsonl --summary' },
  ],
  import: [
    {
      what: 'a DEBUG_VM kernel log as the observation log that validate reads',
      run: 'svmsim replay traces/06-munmap-gc.json -f dmesg -o kernel.log',
    },
    { what: '', run: 'svmsim import kernel.log --from dmesg -o observed.jsonl' },
  ],
  capture: [
    {
      what: 'the bpftrace program for kernel 6.18; run it as root with the pid as argument',
      run: 'svmsim capture --script -k 6.18',
    },
    { what: 'with the pid baked in', run: 'svmsim capture --script --pid 4242' },
  ],
  completion: [
    {
      what: "bash: load it from bash-completion's user directory",
      run: 'mkdir -p ~/.local/share/bash-completion/completions && svmsim completion bash > ~/.local/share/bash-completion/completions/svmsim',
    },
    {
      what: 'zsh: a directory on $fpath (add `fpath+=(~/.zfunc); autoload -U compinit; compinit` to ~/.zshrc)',
      run: 'mkdir -p ~/.zfunc && svmsim completion zsh > ~/.zfunc/_svmsim',
    },
    {
      what: 'fish',
      run: 'mkdir -p ~/.config/fish/completions && svmsim completion fish > ~/.config/fish/completions/svmsim.fish',
    },
  ],
};

/** The "Examples:" block after a command's help. */
function examplesHelp(name: string): string {
  const lines = ['', 'Examples:'];
  for (const e of EXAMPLES[name] ?? []) {
    if (e.what !== '') lines.push(`  # ${e.what}`);
    lines.push(`  $ ${e.run}`);
  }
  return lines.join('\n') + '\n';
}

function withExamples<C extends { name(): string; addHelpText(position: 'after', text: string): unknown }>(c: C): C {
  c.addHelpText('after', examplesHelp(c.name()));
  return c;
}

export function replayCommand(root: Command) {
  return withExamples(
    root
      .command('replay')
      .description('replay a trace and print what the kernel would decide, per event, and the GT stats')
      .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
      .addOption(
        new Option('-f, --format <format>', 'output format')
          .choices(['table', 'json', 'jsonl', 'debugfs', 'perfetto', 'dmesg'] as const)
          .default('table' as const),
      )
      .addOption(new Option('--dmesg-asid <n>', 'dmesg: the VM asid printed (default 1)').argParser(asid))
      .addOption(
        new Option(
          '--dmesg-gpusvm <ptr>',
          'dmesg: the gpusvm pointer printed, hex (default 00000000deadbeef)',
        ).argParser(gpusvmPointer),
      )
      .addOption(
        new Option('--dmesg-pci <addr>', 'dmesg: the PCI address printed (default 0000:03:00.0)').argParser(pciAddress),
      )
      .option('--by-range', 'table: group decisions per range')
      .option('--summary', 'table: only the final ranges and stats')
      .option('--no-events', 'json, jsonl: leave out the per-event decisions')
      .addOption(
        new Option('--gt <n>', 'debugfs: which GT to print (0 primary, 1 media)')
          .argParser(integer(0, 1, 'a GT number (0 or 1)'))
          .default(0),
      )
      .option('-o, --output <file>', 'write the output to a file (atomically) instead of stdout')
      .addOption(inputFormat())
      .addOption(new Option('-k, --kernel <version>', 'kernel profile (default 6.18)').choices(KERNEL_VERSIONS))
      .addOption(new Option('--vram <size>', 'VRAM of tile 0, e.g. 16G (default 16G)').argParser(size('G')))
      .option('--igpu', 'integrated GPU: no VRAM, nothing migrates (dgfx=false)')
      .option('--need64k', 'platform with XE_VRAM_FLAGS_NEED64K (PVC-class)')
      .addOption(
        new Option('--notifier-size <size>', 'svm_notifier_size, e.g. 512M (default 512M)').argParser(size('M')),
      )
      .addOption(
        new Option('--atomic-timeslice-ms <ms>', 'atomic_svm_timeslice_ms (default 5)').argParser(
          integer(0, 1_000_000, 'a timeslice in ms from 0 to 1000000'),
        ),
      )
      .addOption(new Option('--hz <hz>', 'kernel HZ for timeslice rounding (default 250)').choices(HZ))
      .option('--no-media-gt', 'tile without a media GT (no gt1)')
      .option('--always-migrate-to-vram', '6.15-rc1 module parameter always_migrate_to_vram')
      .addOption(new Option('--cost-model <model>', 'how _us counters are estimated').choices(['bmg', 'zero'] as const))
      .option('--set <knob=value>', 'set any platform knob (repeatable), e.g. --set gc=lazy', collect, [] as string[])
      .option('--check-invariants', 'check every model invariant after each event (slower)')
      .addOption(
        new Option('--max-errors <n>', 'list up to N bad lines instead of stopping at the first')
          .argParser(positiveInt)
          .default(1),
      )
      .addOption(thrashThreshold('round trips VRAM→RAM→VRAM that make a range thrash'))
      .addOption(thrashWindow())
      .option(
        '--implicit-mmap',
        'faults-only recording: map an anonymous rw 2M block around every touched address first',
      )
      .option('--color', 'force colour')
      .option('--no-color', 'never colour'),
  );
}

export function compareCommand(root: Command) {
  return withExamples(
    root
      .command('compare')
      .description(
        'replay traces under several kernels / platforms and compare counters and derived figures in one table per trace',
      )
      .argument('[traces...]', 'trace files (.json, .jsonl, .csv) or - for stdin; with --merge, the partial results')
      .addOption(
        new Option('-k, --kernel <list>', 'kernel profiles, comma separated, e.g. 6.15,6.16,6.17,6.18').argParser(
          choiceList(KERNEL_VERSIONS),
        ),
      )
      .addOption(new Option('--vram <list>', 'VRAM sizes, comma separated, e.g. 4G,16G').argParser(sizeList('G')))
      .option(
        '--set <knob=values>',
        'any platform knob with comma-separated values (repeatable), e.g. need64k=true,false',
        collect,
        [] as string[],
      )
      .addOption(
        new Option('-f, --format <format>', 'output format')
          .choices(['table', 'markdown', 'csv', 'json'] as const)
          .default('table' as const),
      )
      .option('--all', 'show every counter, also rows that are 0 everywhere')
      .addOption(inputFormat())
      .option('-o, --output <file>', 'write to a file (atomically) instead of stdout')
      .addOption(thrashThreshold('round trips that make a range thrash'))
      .addOption(thrashWindow())
      .addOption(jobs('every available core'))
      .addOption(
        new Option(
          '--shard <I/N>',
          'run only slice I of N of the traces x combinations grid; write a partial result',
        ).argParser(shard),
      )
      .option('--merge', 'combine the partial results given as arguments into the full output'),
  );
}

export function reportCommand(root: Command) {
  return withExamples(
    root
      .command('report')
      .description(
        'write one self-contained HTML report: VRAM and traffic over time, range timelines, thrashing, GT stats',
      )
      .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
      .option('-o, --output <file>', 'write the HTML to a file (atomically) instead of stdout')
      .addOption(
        new Option('--ranges <n>', 'lanes in the range timeline: the N busiest ranges')
          .argParser(integer(0, 1000, 'a number of lanes from 0 to 1000'))
          .default(50),
      )
      .addOption(
        new Option('-k, --kernel <list>', 'kernel profiles to overlay, comma separated, e.g. 6.16,6.18').argParser(
          choiceList(KERNEL_VERSIONS),
        ),
      )
      .addOption(
        new Option('--vram <list>', 'VRAM sizes to overlay, comma separated, e.g. 4G,16G').argParser(sizeList('G')),
      )
      .option(
        '--set <knob=values>',
        'any platform knob with comma-separated values (repeatable)',
        collect,
        [] as string[],
      )
      .addOption(inputFormat())
      .addOption(thrashThreshold('round trips that make a range thrash'))
      .addOption(thrashWindow()),
  );
}

export function diffCommand(root: Command) {
  return withExamples(
    root
      .command('diff')
      .description(
        'compare two results of `replay --format json|jsonl`: what changed, argument by argument (exit 0 equal, 1 different, 2 bad input)',
      )
      .argument('<a>', 'the reference result (e.g. a stored baseline)')
      .argument('<b>', 'the new result')
      .addOption(
        new Option('-f, --format <format>', 'output format')
          .choices(['text', 'json', 'markdown', 'github'] as const)
          .default('text' as const),
      )
      .option('--ignore-us', 'skip cost-model values (_us counters, copyUs)')
      .option(
        '--ignore <field...>',
        "skip these fields anywhere (e.g. bo), one decision's field (bo_evict.bo), counters, or trace",
      )
      .addOption(
        new Option('--max-shown <n>', 'groups of changes and ranges listed in full')
          .argParser(nonNegativeInt)
          .default(10),
      )
      .option('-o, --output <file>', 'write the report to a file (atomically) instead of stdout')
      .option('--color', 'force colour')
      .option('--no-color', 'never colour'),
  );
}

export function testCommand(root: Command) {
  return withExamples(
    root
      .command('test')
      .description(
        'replay every trace under PATHS (default traces/) and check its expect block (exit 0 all pass, 1 some fail, 2 bad input)',
      )
      .argument('[paths...]', 'trace files or directories (searched recursively for .json, .jsonl, .csv)')
      .addOption(
        new Option('--reporter <reporter>', 'report format besides the summary')
          .choices(['text', 'junit'] as const)
          .default('text' as const),
      )
      .option('-o, --output <file>', 'junit: write the JUnit XML here')
      .option(
        '-u, --update',
        'write the actual values into failing expectations (in place, keeping the file as it is otherwise)',
      )
      .addOption(jobs('all cores'))
      .option('--color', 'force colour')
      .option('--no-color', 'never colour'),
  );
}

export function validateCommand(root: Command) {
  return withExamples(
    root
      .command('validate')
      .description(
        'check the model against a real machine: its DEBUG_VM kernel log and/or GT stats snapshots (exit 0 agree, 1 diverge, 2 bad input)',
      )
      .argument('<trace>', 'the trace of the workload (.json, .jsonl, .csv) or - for stdin')
      .option(
        '--kernel-log <file>',
        'dmesg / journalctl -k log of a CONFIG_DRM_XE_DEBUG_VM kernel (or `svmsim import --from dmesg` output)',
      )
      .option('--stats <files...>', 'gtN/stats snapshots read BEFORE and AFTER the workload')
      .addOption(
        new Option('--gt <n>', 'which GT the stats snapshots are of (0 primary, 1 media)')
          .argParser(integer(0, 1, 'a GT number (0 or 1)'))
          .default(0),
      )
      .addOption(
        new Option('--asid <n>', 'the VM to check when the log has several (default: the first)').argParser(asid),
      )
      .addOption(
        new Option(
          '--pid <n>',
          'with a multi-process trace: the process whose VM the log shows (default: the first process)',
        ).argParser(nonNegativeInt),
      )
      .addOption(
        new Option(
          '--us-tolerance <pct>',
          'fail _us counters further than PCT percent from the model (default: shown, never fail)',
        ).argParser(nonNegativeNumber),
      )
      .addOption(
        new Option('-k, --kernel <version>', 'kernel profile (default: trace header, else 6.18)').choices(
          KERNEL_VERSIONS,
        ),
      )
      .option('--set <knob=value>', 'set any platform knob (repeatable)', collect, [] as string[])
      .addOption(inputFormat())
      .addOption(
        new Option('-f, --format <format>', 'output format')
          .choices(['text', 'json'] as const)
          .default('text' as const),
      ),
  );
}

export function checkCommand(root: Command) {
  return withExamples(
    root
      .command('check')
      .description(
        'validate a trace without replaying it, and lint it (munmap of nothing, accesses to unmapped memory, ...)',
      )
      .argument('<trace>', 'trace file (.json, .jsonl, .csv) or - for stdin')
      .addOption(inputFormat())
      .addOption(new Option('--max-errors <n>', 'stop after N errors (default: all)').argParser(positiveInt))
      .addOption(new Option('-k, --kernel <version>', 'kernel profile for the lints').choices(KERNEL_VERSIONS)),
  );
}

export function genCommand(root: Command) {
  return withExamples(
    root
      .command('gen')
      .description('write a deterministic synthetic trace (CSV or JSONL) for a common access pattern')
      .addArgument(new Argument('<pattern>', 'the access pattern (listed below; docs/gen.md)').choices(PATTERNS))
      .addOption(new Option('-n, --events <n>', 'number of events').argParser(positiveInt).default(100_000))
      .addOption(new Option('--size <size>', 'working-set size, e.g. 256M').argParser(size('M')).default('256M'))
      .addOption(
        new Option('--seed <n>', 'PRNG seed (same seed, same trace)')
          .argParser(integer(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an integer'))
          .default(1),
      )
      .addOption(
        new Option('--base <addr>', 'base address of the working set (2M-aligned)')
          .argParser(address)
          .default(0x7f0000000000n, '0x7f0000000000'),
      )
      .addOption(
        new Option('--step <time>', 'mean time between events, e.g. 1us').argParser(duration).default(1000, '1us'),
      )
      .addOption(
        new Option('--format <format>', 'trace encoding (default: jsonl for -o FILE.jsonl, else csv)').choices([
          'csv',
          'jsonl',
        ] as const),
      )
      .addOption(
        new Option(
          '--vram <size>',
          'write a platform header with this VRAM size (oversub: default half of --size)',
        ).argParser(size('G')),
      )
      .option('-o, --output <file>', 'write to a file instead of stdout')
      .addHelpText('after', `\nPatterns:\n${PATTERNS.map((p) => `  ${p.padEnd(10)} ${PATTERN_DOCS[p]}`).join('\n')}`),
  );
}

export function importCommand(root: Command) {
  return withExamples(
    root
      .command('import')
      .description(
        'turn a capture (bpftrace, KFD SMI events, nsys SQLite export) into an svmsim JSONL trace; --from dmesg writes the observation log that validate reads',
      )
      .argument('<file>', 'the capture')
      .addOption(
        new Option('--from <kind>', 'capture kind (default: recognised from the file; dmesg must be named)').choices([
          ...IMPORTERS.map((i) => i.name),
          DMESG,
        ]),
      )
      .option('-o, --output <file>', 'write the trace to a file (atomically) instead of stdout')
      .addOption(
        new Option(
          '--gpu-access <access>',
          'access written for a GPU fault whose kind the capture lacks (bpftrace: non-atomic faults)',
        )
          .choices(['read', 'write'] as const)
          .default('read' as const),
      )
      .addOption(new Option('--pid <pid>', 'keep only this process (KFD SMI, nsys)').argParser(nonNegativeInt))
      .addOption(
        new Option('--reorder-window <time>', 'how late a capture line may arrive after a later one (per-CPU buffers)')
          .argParser(duration)
          .default(20_000_000, '20ms'),
      ),
  );
}

export function captureCommand(root: Command) {
  return withExamples(
    root
      .command('capture')
      .description('print a bpftrace program that captures one process on a stock kernel, for `svmsim import`')
      .option('--script', 'print the bpftrace script (the only mode)')
      .addOption(
        new Option('-k, --kernel <version>', 'kernel the script is for (function names differ per version)')
          .choices(KERNEL_VERSIONS)
          .default('6.18' as const),
      )
      .addOption(
        new Option(
          '--pid <pid>',
          'bake this pid into the script (default: the script takes it as its first argument)',
        ).argParser(nonNegativeInt),
      ),
  );
}

export function completionCommand(root: Command) {
  return withExamples(
    root
      .command('completion')
      .description('print the shell completion script for bash, zsh or fish (README "Install")')
      .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS)),
  );
}

type OptsOf<F extends (root: Command) => { opts(): unknown }> = ReturnType<ReturnType<F>['opts']>;
export type ReplayOpts = OptsOf<typeof replayCommand>;
export type CompareOpts = OptsOf<typeof compareCommand>;
export type ReportCliOpts = OptsOf<typeof reportCommand>;
export type DiffOpts = OptsOf<typeof diffCommand>;
export type TestOpts = OptsOf<typeof testCommand>;
export type ValidateOpts = OptsOf<typeof validateCommand>;
export type CheckOpts = OptsOf<typeof checkCommand>;
export type GenCliOpts = OptsOf<typeof genCommand>;
export type ImportCliOpts = OptsOf<typeof importCommand>;
export type CaptureOpts = OptsOf<typeof captureCommand>;

/** The root command, without actions (completion and tests read its metadata). */
export function rootCommand(): Command {
  return new Command('svmsim').description(
    'Replay CPU/GPU memory traces through a model of the Linux Intel Xe SVM stack',
  );
}
