/**
 * The DEBUG_VM line grammar, per kernel version (xe_svm.c range_debug() / the INVALIDATE vm_dbg in
 * xe_svm_invalidate() / xe_svm_copy(); drm_print.c for the prefix), and the log reader.
 * Expected lines are written out by hand from the kernel format strings.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultPlatform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import type { Decision } from '../../src/core/decisions.js';
import { DMESG_PROFILES, DmesgFormatter, printkTime } from '../../src/report/dmesg.js';
import { newLogCounts, parseDmesgLine } from '../../src/validate/dmesg.js';
import { B, ev, M } from '../helpers.js';
import { runCli } from '../cli-harness.js';

const PF = '[    1.000002] xe 0000:03:00.0: [drm:__xe_svm_handle_pagefault [xe]] ';
const RANGE =
  'asid=1, gpusvm=00000000deadbeef, vram=0,0, seqno=9223372036854775807, start=0x007f0000000000, end=0x007f0000200000, size=2097152';

/** Print-point records of a replay with debugVm on. */
function prints(kernel: Parameters<typeof defaultPlatform>[0], events: ReturnType<typeof ev>[]): Decision[] {
  const sim = new Simulator(defaultPlatform(kernel), { debugVm: true });
  return events
    .flatMap((e) => sim.step(e).decisions)
    .filter((d) => ['range_debug', 'invalidate_debug', 'copy_debug', 'svm_dbg'].includes(d.code));
}

describe('replay --format dmesg: the lines of xe_svm_handle_pagefault()', () => {
  test('printk time stamp is [%5lu.%06lu] of the trace time', () => {
    expect(printkTime(1_000_002_999)).toBe('[    1.000002]');
    expect(printkTime(123456_000_001_000)).toBe('[123456.000001]');
  });

  test('first GPU fault on an untouched 2M anon range (6.18): PAGE FAULT, ALLOCATE VRAM, two MIGRATE notifiers, GET PAGES, BIND', () => {
    const d = prints('6.18', [ev('mmap', B, 2n * M), ev('gpu_fault', B, 1n, { access: 'read' })]);
    const fmt = new DmesgFormatter(DMESG_PROFILES['6.18']);
    const lines = d.map((x) => fmt.line(x, 1_000_002_000)!);
    expect(lines).toEqual([
      `${PF}PAGE FAULT: ${RANGE}`,
      `[    1.000002] xe 0000:03:00.0: [drm:xe_svm_alloc_vram [xe]] ALLOCATE VRAM: ${RANGE}`,
      // migrate_vma_setup(): seq 2 -> 3 while the notifier runs (mn_itree_inv_start_range), event 6 = MMU_NOTIFY_MIGRATE
      '[    1.000002] xe 0000:03:00.0: [drm:xe_svm_invalidate [xe]] INVALIDATE: asid=1, gpusvm=00000000deadbeef, seqno=3, start=0x00007f0000000000, end=0x00007f0000200000, event=6',
      `[    1.000002] xe 0000:03:00.0: [drm:xe_svm_range_notifier_event_begin [xe]] NOTIFIER: ${RANGE}`,
      // no page had a source: no COPY line; migrate_vma_pages() notifies again from the first hole (seq 4 -> 5)
      '[    1.000002] xe 0000:03:00.0: [drm:xe_svm_invalidate [xe]] INVALIDATE: asid=1, gpusvm=00000000deadbeef, seqno=5, start=0x00007f0000000000, end=0x00007f0000200000, event=6',
      `[    1.000002] xe 0000:03:00.0: [drm:xe_svm_range_notifier_event_begin [xe]] NOTIFIER: ${RANGE}`,
      `${PF}GET PAGES: ${RANGE}`,
      // get_pages found device pages: has_devmem_pages = 1, not bound yet; notifier_seq = the notifier's seq 5
      `${PF}PAGE FAULT - BIND: ${RANGE.replace('vram=0,0', 'vram=1,0').replace('seqno=9223372036854775807', 'seqno=5')}`,
    ]);
  });

  test('a valid fault prints PAGE FAULT - VALID on 6.18 only', () => {
    const evs = [
      ev('mmap', B, 2n * M),
      ev('gpu_fault', B, 1n, { access: 'read' }),
      ev('gpu_fault', B + 4096n, 1n, { access: 'read' }),
    ];
    for (const k of ['6.15', '6.16', '6.17', '6.18'] as const) {
      const fmt = new DmesgFormatter(DMESG_PROFILES[k]);
      const text = prints(k, evs)
        .map((x) => fmt.line(x, 0))
        .filter((l) => l !== undefined);
      expect(text.some((l) => l!.includes('PAGE FAULT - VALID: '))).toBe(k === '6.18');
    }
  });

  test('copies: one COPY TO VRAM per run of system pages (xe_svm_copy), NPAGES = run length', () => {
    // 16 pages touched by the CPU at the start of a 2M range, then a GPU fault migrates it.
    const d = prints('6.18', [
      ev('mmap', B, 2n * M),
      ev('cpu_write', B, 64n * 1024n),
      ev('gpu_fault', B, 1n, { access: 'read' }),
    ]);
    const copies = d.filter((x) => x.code === 'copy_debug');
    expect(copies).toEqual([
      { code: 'copy_debug', toVram: true, page: Number(B >> 12n), bo: 1, boPage: 0, npages: 16 },
    ]);
  });

  test('"Range is already in VRAM" is drm_dbg up to 6.16 and drm_info on 6.17 / 6.18; "VRAM allocation failed, retry count exceeded" is drm_err', () => {
    const d: Decision = { code: 'svm_dbg', msg: 'range_in_vram' };
    expect(new DmesgFormatter(DMESG_PROFILES['6.16']).line(d, 0)).toBe(
      '[    0.000000] xe 0000:03:00.0: [drm:xe_svm_range_needs_migrate_to_vram [xe]] Range is already in VRAM',
    );
    for (const k of ['6.17', '6.18'] as const)
      expect(new DmesgFormatter(DMESG_PROFILES[k]).line(d, 0), k).toBe(
        '[    0.000000] xe 0000:03:00.0: [drm] Range is already in VRAM',
      );
    const e: Decision = { code: 'svm_dbg', msg: 'vram_alloc_exceeded', errno: 'ENOMEM' };
    expect(new DmesgFormatter(DMESG_PROFILES['6.18']).line(e, 0)).toBe(
      '[    0.000000] xe 0000:03:00.0: [drm] *ERROR* VRAM allocation failed, retry count exceeded, asid=1, errno=-ENOMEM',
    );
  });

  test('--dmesg-asid, --dmesg-gpusvm and --dmesg-pci set the placeholders of each line; a bad --dmesg-pci is exit 2', async () => {
    const r = await runCli([
      'replay',
      'traces/01-first-touch-2m.json',
      '-f',
      'dmesg',
      '--dmesg-asid',
      '7',
      '--dmesg-gpusvm',
      '0xabc',
      '--dmesg-pci',
      '0000:0a:00.0',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain(
      'xe 0000:0a:00.0: [drm:__xe_svm_handle_pagefault [xe]] PAGE FAULT: asid=7, gpusvm=0000000000000abc,',
    );
    expect((await runCli(['replay', 'traces/01-first-touch-2m.json', '-f', 'dmesg', '--dmesg-pci', 'nope'])).code).toBe(
      2,
    );
  });
});

describe('reading a kernel log', () => {
  const body = `xe 0000:03:00.0: [drm:xe_svm_handle_pagefault [xe]] PAGE FAULT: ${RANGE}`;
  const parse = (t: string) => parseDmesgLine(t, 1, 'k.log');

  test('dmesg, dmesg --raw, dmesg -t and journalctl -k -o short-monotonic give the same observation', () => {
    for (const t of [
      `[  123.456789] ${body}`,
      `<7>[  123.456789] ${body}`,
      body,
      `[  123.456789] host kernel: ${body}`,
    ]) {
      const r = parse(t);
      expect(r.kind).toBe('svm');
      expect(r.obs).toMatchObject({
        label: 'PAGE FAULT',
        asid: 1,
        start: 0x7f0000000000n,
        end: 0x7f0000200000n,
        vram: [0, 0],
      });
    }
  });

  test("other drivers' lines, other xe lines, wrapped and truncated lines are classified", () => {
    expect(parse('[    2.000000] usb 1-1: new high-speed USB device').kind).toBe('other_driver');
    expect(parse('[    2.000000] xe 0000:03:00.0: [drm] Finished loading DMC firmware').kind).toBe('other_xe');
    expect(parse('size=2097152').kind).toBe('wrapped');
    expect(parse(`[  1.0] ${body}`.slice(0, -3)).kind).toBe('truncated');
    expect(parse(`[  1.0] ${body.slice(0, body.indexOf(', end='))}`).kind).toBe('truncated');
    expect(
      parse('[  1.0] xe 0000:03:00.0: [drm:xe_svm_invalidate [xe]] INVALIDATE: asid=1, gpusvm=0, seqno=3, start=0x0')
        .kind,
    ).toBe('truncated');
  });

  test('a complete SVM line with an impossible value is bad input with file:line', () => {
    expect(() => parse(`[  1.0] ${body.replace('size=2097152', 'size=4096')}`)).toThrow(
      /^k\.log:1: PAGE FAULT: size=4096 but end - start = 2097152/,
    );
    expect(() => parse(`[  1.0] ${body.replace('vram=0,0', 'vram=2,0')}`)).toThrow(/k\.log:1: .*vram=2,0/);
    expect(() =>
      parse(
        '[  1.0] xe 0000:03:00.0: [drm:xe_svm_invalidate [xe]] INVALIDATE: asid=1, gpusvm=0, seqno=3, start=0x1000, end=0x2000, event=9',
      ),
    ).toThrow(/k\.log:1: .*event=9/);
  });
});

describe('svmsim validate --kernel-log: bad input and VM selection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-dmesg-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const trace = 'traces/01-first-touch-2m.json';

  test('a log with no Xe SVM line: exit 2, saying what was expected and how to enable it', async () => {
    const p = file('none.log', '[    0.1] usb 1-1: hello\n[    0.2] xe 0000:03:00.0: [drm] GT0: ready\n');
    const r = await runCli(['validate', trace, '--kernel-log', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Xe SVM line in 2 lines');
    expect(r.stderr).toContain('CONFIG_DRM_XE_DEBUG_VM=y');
    expect(r.stderr).toContain('drm.debug=0x2');
  });

  test('a malformed line: exit 2 with file:line', async () => {
    const log = (await runCli(['replay', trace, '-f', 'dmesg'])).stdout.split('\n');
    log[3] = log[3].replace(/size=\d+/, 'size=1');
    const p = file('bad.log', log.join('\n'));
    const r = await runCli(['validate', trace, '--kernel-log', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${p}:4: `);
  });

  test('other drivers mixed in, and a second VM: the first VM is checked, --asid picks one', async () => {
    const log = (await runCli(['replay', trace, '-f', 'dmesg'])).stdout.trim().split('\n');
    const other = (await runCli(['replay', trace, '-f', 'dmesg', '--dmesg-asid', '2'])).stdout.trim().split('\n');
    // The second VM runs after the first (COPY lines carry no asid: they belong to the VM of the line before).
    const mixed =
      [...log, ...other].flatMap((l) => [l, '[    5.000000] nvme nvme0: I/O 7 QID 3 timeout']).join('\n') + '\n';
    const p = file('mixed.log', mixed);
    const r = await runCli(['validate', trace, '--kernel-log', p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`other VMs skipped: asid 2 (${other.length} lines)`);
    expect((await runCli(['validate', trace, '--kernel-log', p, '--asid', '2'])).code).toBe(0);
    expect((await runCli(['validate', trace, '--kernel-log', p, '--asid', '3'])).code).toBe(2);
  });

  test('import --from dmesg writes an observation log that validate reads like the log', async () => {
    const log = (await runCli(['replay', trace, '-f', 'dmesg'])).stdout;
    const p = file('k.log', '[    0.1] usb 1-1: hello\n' + log);
    const imp = await runCli(['import', p, '--from', 'dmesg', '-o', 'obs.jsonl']);
    expect(imp.code).toBe(0);
    const text = imp.files.get('obs.jsonl')!;
    expect(text.split('\n')[0]).toBe(JSON.stringify({ svmsim: 'observations', kind: 'dmesg', source: p }));
    expect(JSON.parse(text.split('\n')[1])).toMatchObject({
      label: 'PAGE FAULT',
      asid: 1,
      start: '0x7f0000000000',
      end: '0x7f0000200000',
      vram: [0, 0],
      line: 2,
    });
    const q = file('obs.jsonl', text);
    expect((await runCli(['validate', trace, '--kernel-log', q])).code).toBe(0);
    const broken = file('obs-bad.jsonl', text.replace('"label":"GET PAGES"', '"label":"NOPE"'));
    const r = await runCli(['validate', trace, '--kernel-log', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/obs-bad\.jsonl:\d+: field "label"/);
    expect(newLogCounts().svm).toBe(0);
  });
});

describe('the capture sniffer: the plug point for a bpftrace reader', () => {
  const trace = 'traces/01-first-touch-2m.json';
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-capture-'));

  test('JSON lines without a bpftrace reader: exit 2; with one, validate compares only the labels it can show (read asynchronously)', async () => {
    const { setBpftraceReader } = await import('../../src/validate/capture.js');
    const { observationsFromBpftrace } = await import('../../src/validate/bpftrace.js');
    setBpftraceReader(undefined);
    const p = join(dir, 'cap.jsonl');
    writeFileSync(p, '{"probe":"xe_svm_handle_pagefault"}\n');
    const none = await runCli(['validate', trace, '--kernel-log', p]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no bpftrace reader');

    // A stand-in reader: the PAGE FAULT lines of the model's own log, as an async iterable.
    const log = (await runCli(['replay', trace, '-f', 'dmesg'])).stdout.trim().split('\n');
    const faults = log.map((l, i) => parseDmesgLine(l, i + 1, p).obs!).filter((o) => o.label === 'PAGE FAULT');
    setBpftraceReader(() => ({
      kind: 'bpftrace',
      alphabet: new Set(['PAGE FAULT']),
      observations: (async function* () {
        yield* faults;
      })(),
    }));
    try {
      const r = await runCli(['validate', trace, '--kernel-log', p, '-f', 'json']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.checks[0].compared).toBe(faults.length);
      expect(doc.checks[0].labels.map((l: { label: string }) => l.label)).toEqual(['PAGE FAULT']);
    } finally {
      setBpftraceReader(observationsFromBpftrace);
    }
  });
});

describe('validate reads the trace once', () => {
  test('the trace on stdin, with both checks', async () => {
    const trace = 'traces/02-cpu-gpu-pingpong.json';
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-stdin-'));
    const log = join(dir, 'k.log');
    writeFileSync(log, (await runCli(['replay', trace, '-f', 'dmesg'])).stdout);
    const stats = (await runCli(['replay', trace, '-f', 'debugfs'])).stdout;
    const before = join(dir, 'before.txt');
    const after = join(dir, 'after.txt');
    writeFileSync(before, stats.replace(/: \d+$/gm, ': 0'));
    writeFileSync(after, stats);
    const { readFileSync } = await import('node:fs');
    const r = await runCli(
      ['validate', '-', '--input-format', 'json', '--kernel-log', log, '--stats', before, after, '-f', 'json'],
      { stdin: readFileSync(trace, 'utf8') },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(
      JSON.parse(r.stdout).checks.map((c: { check: string; verdict: string }) => `${c.check}:${c.verdict}`),
    ).toEqual(['kernel-log:agree', 'stats:agree']);
  });
});
