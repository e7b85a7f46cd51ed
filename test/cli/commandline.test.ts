/**
 * The command line as one description (issue 14 §3, §4): commander's declarations (src/cli/
 * commands.ts) give --help with examples that run, completion scripts for bash / zsh / fish, the
 * README's option lists, and the messages for option values a new user gets wrong.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXAMPLES } from '../../src/cli/commands.js';
import { commandSpecs, completionScript } from '../../src/cli/completion.js';
import { main, program, type CliIo } from '../../src/cli/main.js';
import { runCli } from '../cli-harness.js';

const ROOT = resolve('.');
const T = 'traces/01-first-touch-2m.json';
const dir = mkdtempSync(join(tmpdir(), 'svmsim-cmdline-'));
const quiet: CliIo = {
  stdout: () => {},
  stderr: () => {},
  readText: async () => '',
  writeFileAtomic: async () => {},
  openOutput: () => ({ write: () => {}, close: async () => {}, abort: () => {} }),
  colorLevel: 0,
};
const specs = commandSpecs(program(quiet));
const commands = specs.commands.filter((c) => c.name !== 'help');
const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

beforeAll(() => {
  if (!existsSync('dist/svmsim.js')) spawnSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
});

describe('--help of every command ends with examples that run', () => {
  test('every command has an "Examples:" block after its options, listing its EXAMPLES', async () => {
    expect(commands.map((c) => c.name).sort()).toEqual(Object.keys(EXAMPLES).sort());
    for (const c of commands) {
      const r = await runCli([c.name, '--help']);
      expect(r.code).toBe(0);
      const [usage, examples] = r.stdout.split('\nExamples:\n');
      expect(usage, c.name).toMatch(/^Usage: svmsim /);
      expect(examples, `${c.name} --help has no Examples: block`).toBeDefined();
      for (const e of EXAMPLES[c.name]) expect(examples).toContain(`  $ ${e.run}\n`);
      expect(EXAMPLES[c.name].length).toBeGreaterThan(0);
    }
  });

  // Each command's examples run in order, as a user types them (bash, svmsim on the PATH), in an
  // empty directory with the bundled traces: what one example writes, the next may read.
  test.each(commands.map((c) => c.name))(
    'the examples of `svmsim %s --help` run with their documented exit status',
    (name) => {
      const home = mkdtempSync(join(dir, `${name}-`));
      const bin = join(home, 'bin');
      mkdirSync(bin);
      symlinkSync(join(ROOT, 'bin/svmsim.js'), join(bin, 'svmsim'));
      symlinkSync(join(ROOT, 'traces'), join(home, 'traces'));
      for (const e of EXAMPLES[name]) {
        const r = spawnSync('bash', ['-c', e.run], {
          cwd: home,
          encoding: 'utf8',
          env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
        });
        expect(r.status, `${e.run}\n${r.stderr}`).toBe(e.exit ?? 0);
        expect(r.stderr, e.run).not.toMatch(/internal error|\n\s+at /);
      }
    },
  );
});

describe('svmsim completion bash|zsh|fish', () => {
  const scripts = { bash: '', zsh: '', fish: '' };
  beforeAll(async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const r = await runCli(['completion', shell]);
      expect(r.code).toBe(0);
      scripts[shell] = r.stdout;
      expect(r.stdout).toBe(completionScript(shell, program(quiet)));
    }
  });

  test('every command and every option of every command appears in each script, with the choices of enum options', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const s = scripts[shell];
      for (const c of specs.commands) {
        expect(s, `${shell}: ${c.name}`).toContain(c.name);
        for (const o of c.options) {
          const long = o.long!;
          // fish names options without dashes (-l format); bash and zsh with them.
          expect(s, `${shell}: ${c.name} ${long}`).toContain(shell === 'fish' ? `-l ${long.slice(2)}` : long);
          for (const choice of o.value?.choices ?? [])
            expect(s, `${shell}: ${c.name} ${long} ${choice}`).toContain(choice);
        }
      }
    }
  });

  test('bash: the script parses (bash -n), and completes commands, options, choices and files', () => {
    const file = join(dir, 'svmsim.bash');
    writeFileSync(file, scripts.bash);
    expect(spawnSync('bash', ['-n', file], { encoding: 'utf8' }).stderr).toBe('');
    const complete = (line: string) => {
      const words = line.split(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _svmsim; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(complete('svmsim re')).toEqual(['replay', 'report']);
    expect(complete('svmsim replay --for')).toEqual(['--format']);
    expect(complete('svmsim replay -f j')).toEqual(['json', 'jsonl']);
    expect(complete('svmsim compare --kernel ')).toEqual([]);
    expect(complete('svmsim replay -k 6.1')).toContain('6.18.y');
    expect(complete('svmsim gen s')).toEqual(['streaming', 'sparse']);
    expect(complete('svmsim replay traces/01-')).toEqual(['traces/01-first-touch-2m.json']);
    expect(complete('svmsim completion ')).toEqual(['bash', 'zsh', 'fish']);
  });

  test.skipIf(!has('zsh'))('zsh: the script parses (zsh -n)', () => {
    const file = join(dir, '_svmsim');
    writeFileSync(file, scripts.zsh);
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test.skipIf(!has('fish'))('fish: the script parses (fish -n) and completes', () => {
    const file = join(dir, 'svmsim.fish');
    writeFileSync(file, scripts.fish);
    const r = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const c = spawnSync('fish', ['-c', `source ${file}; complete -C 'svmsim replay -f j'`], { encoding: 'utf8' });
    expect(
      c.stdout
        .split('\n')
        .map((l) => l.split('\t')[0])
        .filter(Boolean),
    ).toEqual(['json', 'jsonl']);
  });
});

test('README "Options" lists every option of every command (from the commander declarations)', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Options\n'), readme.indexOf('\n## Platform knobs\n'));
  // One block per command: from its `svmsim NAME` line to the next command's.
  const blocks = new Map<string, string>();
  for (const b of section.split(/\n(?=svmsim [a-z])/)) {
    const m = /^svmsim ([a-z]+)/.exec(b);
    if (m) blocks.set(m[1], (blocks.get(m[1]) ?? '') + b);
  }
  for (const c of commands) {
    const block = blocks.get(c.name);
    expect(block, `README Options: no "svmsim ${c.name}" block`).toBeDefined();
    for (const o of c.options)
      if (o.long !== '--help') expect(block, `README Options: svmsim ${c.name} ${o.long}`).toContain(o.long);
  }
});

describe('option values a new user gets wrong (issue 14 §4): exit 2, one line naming the option and what it expects', () => {
  async function refused(argv: string[], re: RegExp) {
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    return r;
  }

  test('--vram 16 (a size without a unit) is refused with a hint, wherever a size is taken', async () => {
    await refused(
      ['replay', T, '--vram', '16'],
      /^svmsim: option '--vram <size>' argument '16' is invalid\. Expected a size with a unit, K, M, G or T \(a plain number would be bytes\)\. Did you mean 16G\?\n$/,
    );
    await refused(['replay', T, '--vram', '17179869184'], /17179869184 bytes is 16G: write 16G\./);
    await refused(
      ['replay', T, '--notifier-size', '512'],
      /option '--notifier-size <size>' argument '512' is invalid\..*Did you mean 512M\?/,
    );
    await refused(
      ['replay', T, '--set', 'vram=16'],
      /^svmsim: --set vram=16: Expected a size with a unit.*Did you mean 16G\?/,
    );
    await refused(
      ['compare', T, '--vram', '4G,16'],
      /option '--vram <list>' argument '4G,16' is invalid\..*Did you mean 16G\?/,
    );
    await refused(
      ['compare', T, '--set', 'vram=4G,16'],
      /--set vram=4G,16: Expected a size with a unit.*Did you mean 16G\?/,
    );
    await refused(['report', T, '--vram', '8'], /Did you mean 8G\?/);
    await refused(
      ['gen', 'streaming', '--size', '256'],
      /option '--size <size>' argument '256' is invalid\..*Did you mean 256M\?/,
    );
    await refused(['gen', 'streaming', '--vram', '4'], /Did you mean 4G\?/);
    // With a unit, or in hex (bytes on purpose), a size is taken.
    for (const v of ['16G', '4M', '0x1000000'])
      expect((await runCli(['replay', T, '--vram', v, '-f', 'debugfs'])).code).toBe(0);
    // The alias taking MiB by definition keeps its meaning.
    expect((await runCli(['replay', T, '--set', 'svm_notifier_size=512', '-f', 'debugfs'])).code).toBe(0);
  });

  test('a value the platform rules refuse names the option that gave it', async () => {
    await refused(
      ['replay', T, '--vram', '1.5K'],
      /^svmsim: --vram 1\.5K: field "vram": expected a VRAM size in whole 4K pages/,
    );
    await refused(
      ['replay', T, '--set', 'svm_notifier_size=3'],
      /^svmsim: --set svm_notifier_size=3: field "notifier_size": expected a power-of-two size/,
    );
    await refused(
      ['validate', T, '--stats', 'a', 'b', '--set', 'gc=sometimes'],
      /^svmsim: --set gc=sometimes: field "gc": /,
    );
  });

  test('--set vram=4G with --vram 8G: refused naming both (replay, validate, compare)', async () => {
    await refused(
      ['replay', T, '--vram', '8G', '--set', 'vram=4G'],
      /^svmsim: --set vram=4G: platform knob "vram" is already given \(--vram 8G\)\n$/,
    );
    await refused(
      ['replay', T, '--kernel', '6.16', '--set', 'kernel=6.17'],
      /--set kernel=6\.17: platform knob "kernel" is already given \(--kernel 6\.16\)/,
    );
    // validate used to keep the last one silently.
    await refused(
      ['validate', T, '--stats', 'a', 'b', '-k', '6.16', '--set', 'kernel=6.17'],
      /--set kernel=6\.17: platform knob "kernel" is already given \(--kernel 6\.16\)/,
    );
    await refused(
      ['validate', T, '--stats', 'a', 'b', '--set', 'vram=4G', '--set', 'vram=8G'],
      /--set vram=8G: platform knob "vram" is already given \(--set vram=4G\)/,
    );
    await refused(
      ['compare', T, '--vram', '8G', '--set', 'vram=4G'],
      /platform knob "vram" is given twice \(--vram 8G and --set vram=4G\)/,
    );
  });

  test('--hz 200 and other enums: the message lists the allowed values', async () => {
    await refused(
      ['replay', T, '--hz', '200'],
      /^svmsim: option '--hz <hz>' argument '200' is invalid\. Allowed choices are 100, 250, 300, 1000\.\n$/,
    );
    await refused(
      ['replay', T, '-f', 'yaml'],
      /argument 'yaml' is invalid\. Allowed choices are table, json, jsonl, debugfs, perfetto, dmesg\./,
    );
    await refused(['replay', T, '-k', '5.4'], /Allowed choices are 6\.15-rc1, 6\.15, 6\.16, 6\.17, 6\.18, 6\.18\.y\./);
    await refused(
      ['compare', T, '-k', '6.18,5.4'],
      /option '-k, --kernel <list>' argument '6\.18,5\.4' is invalid\. Expected a comma-separated list of 6\.15-rc1, 6\.15, 6\.16, 6\.17, 6\.18, 6\.18\.y\./,
    );
    await refused(['report', T, '-k', '6.9'], /Expected a comma-separated list of 6\.15-rc1/);
    await refused(
      ['gen', 'strem'],
      /value 'strem' is invalid for argument 'pattern'\. Allowed choices are streaming, random/,
    );
    await refused(['completion', 'tcsh'], /Allowed choices are bash, zsh, fish\./);
  });

  test('numbers, times and addresses are parsed by commander: the option and what it expects, before anything runs', async () => {
    await refused(
      ['replay', T, '--max-errors', '0'],
      /option '--max-errors <n>' argument '0' is invalid\. Expected a positive integer\./,
    );
    await refused(
      ['replay', T, '--gt', '2'],
      /option '--gt <n>' argument '2' is invalid\. Expected a GT number \(0 or 1\)\./,
    );
    await refused(
      ['replay', T, '--thrash-window', 'soon'],
      /option '--thrash-window <time>' argument 'soon' is invalid\. Expected a time such as 500us/,
    );
    await refused(
      ['replay', T, '--thrash-threshold', '1.5'],
      /option '--thrash-threshold <n>' argument '1\.5' is invalid\. Expected a positive integer\./,
    );
    await refused(['compare', T, '-j', '0'], /option '-j, --jobs <n>' argument '0' is invalid/);
    await refused(
      ['compare', T, '--shard', '3/2'],
      /option '--shard <I\/N>' argument '3\/2' is invalid\. Expected I\/N with 1 <= I <= N/,
    );
    await refused(['report', T, '--ranges', '1001'], /Expected a number of lanes from 0 to 1000\./);
    await refused(
      ['diff', 'a.json', 'b.json', '--max-shown', '-1'],
      /option '--max-shown <n>' argument '-1' is invalid\. Expected a non-negative integer\./,
    );
    await refused(
      ['gen', 'streaming', '--base', 'zz'],
      /option '--base <addr>' argument 'zz' is invalid\. Expected an address/,
    );
    await refused(
      ['gen', 'streaming', '-n', '1e6'],
      /option '-n, --events <n>' argument '1e6' is invalid\. Expected a positive integer\./,
    );
    await refused(
      ['validate', T, '--stats', 'a', 'b', '--us-tolerance', 'x'],
      /option '--us-tolerance <pct>' argument 'x' is invalid\. Expected a number >= 0\./,
    );
    await refused(['replay', T, '--dmesg-pci', '3:0'], /Expected a PCI address such as 0000:03:00\.0\./);
    await refused(['replay', T, '--frobnicate'], /^svmsim: unknown option '--frobnicate'\n$/);
    await refused(['replay'], /^svmsim: missing required argument 'trace'\n$/);
  });

  test('-o naming an input of `svmsim test` (a trace found under a directory given): exit 2, nothing written', async () => {
    const traces = mkdtempSync(join(dir, 'traces-'));
    copyFileSync(T, join(traces, 'a.json'));
    const before = readFileSync(join(traces, 'a.json'), 'utf8');
    const r = await runCli(['test', traces, '--reporter', 'junit', '-o', join(traces, 'a.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--output .*a\.json: is the input .*a\.json; refusing to overwrite it/);
    expect(readFileSync(join(traces, 'a.json'), 'utf8')).toBe(before);
  });

  test("a bad --output directory: the message names the user's path, never a temporary file", () => {
    for (const args of [
      ['replay', T, '-o', 'no-such-dir/out.json'],
      ['gen', 'streaming', '-n', '10', '-o', 'no-such-dir/out.csv'],
      ['compare', T, '-o', 'no-such-dir/out.txt'],
    ]) {
      const r = spawnSync('node', ['bin/svmsim.js', ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`svmsim: ${args[args.length - 1]}: no such directory: no-such-dir\n`);
    }
    const r = spawnSync('node', ['bin/svmsim.js', 'replay', T, '-o', `${T}/x.json`], { encoding: 'utf8' });
    expect(r.stderr).toBe(`svmsim: ${T}/x.json: a component of the path is not a directory\n`);
  });
});

test('stdin (-) streams for check, compare, report and validate as for replay: never read whole', async () => {
  // readText('-') would read stdin whole (1.5 GB for a 600 MB trace); openStdin streams it.
  const csv = join(dir, 'stdin.csv');
  copyFileSync('traces/12-need64k.csv', csv);
  const ref = await runCli(['check', 'traces/12-need64k.csv']);
  for (const argv of [
    ['replay', '-', '-f', 'debugfs'],
    ['check', '-'],
    ['compare', '-', '-k', '6.17,6.18'],
    ['report', '-'],
    ['validate', '-', '--stats', 'x', 'y'],
  ]) {
    let out = '';
    let err = '';
    let fd: number | undefined;
    const code = await main([...argv, '--input-format', 'csv'], {
      ...quiet,
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
      readText: async (p) => {
        if (p === '-') throw new Error('stdin read whole');
        return readFileSync(p, 'utf8');
      },
      openStdin: () => (fd = openSync(csv, 'r')),
    });
    expect(err, argv.join(' ')).not.toMatch(/stdin read whole|internal error/);
    expect(fd, `${argv[0]} opened stdin as a stream`).toBeDefined();
    if (argv[0] === 'validate')
      expect(code).toBe(2); // the snapshots x, y do not exist: read after the trace is opened
    else expect(code, err).toBe(0);
    if (argv[0] === 'check') expect(out).toBe(ref.stdout.replaceAll('traces/12-need64k.csv', '<stdin>'));
  }
});
