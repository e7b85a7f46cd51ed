/**
 * `svmsim import`: each importer on a fixture written from the format its source defines
 * (src/capture/bpftrace-script.ts, KFD_EVENT_FMT_* of include/uapi/linux/kfd_ioctl.h, the nsys
 * export schema), with golden outputs and hand-derived expectations; malformed captures are bad
 * input (exit 2) naming file:line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { importerNamed } from '../../src/import/registry.js';
import { ReorderWindow } from '../../src/import/reorder.js';
import { PAUSE_EVERY } from '../../src/import/types.js';
import { observationsFromBpftrace } from '../../src/validate/bpftrace.js';
import type { KernelObservation } from '../../src/validate/observation.js';
import { runCli } from '../cli-harness.js';

const FIX = 'test/import/fixtures';
const dir = mkdtempSync(join(tmpdir(), 'svmsim-import-'));

/** The trace's events (JSON lines after the header), as objects. */
function events(trace: string): Record<string, unknown>[] {
  return trace
    .split('\n')
    .filter((l) => l.startsWith('{"op"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function nsysDb(sql: string): string {
  const file = join(dir, `nsys-${Math.random().toString(36).slice(2)}.sqlite`);
  const db = new Database(file);
  db.exec(sql);
  db.close();
  return file;
}

describe('import --from bpftrace (xe_svm_handle_pagefault, drm_gpusvm_range_find_or_insert, drm_pagemap_*)', () => {
  test('6.18 capture: the workload and the kernel decisions as comments (golden)', async () => {
    const r = await runCli(['import', `${FIX}/capture-6.18.jsonl`]);
    expect(r.code).toBe(0);
    await expect(r.stdout).toMatchFileSnapshot('__golden__/capture-6.18.trace.jsonl');
    expect(r.stdout.split('\n')[0]).toBe('{"svmsim":1,"platform":{"kernel":"6.18"}}');
    const ev = events(r.stdout);
    // mmap (returned address), atomic fault, ONE cpu_read for the three busy-loop migrate_to_ram
    // hits on the same page, read fault (atomic=0 → --gpu-access read), atomic fault, madvise
    // DONTNEED (advice 8 = MADV_FREE skipped), mprotect, mremap as munmap + mmap, munmap, the
    // failed fault (it is still an input), the MAP_SHARED|MAP_ANONYMOUS mmap; the failed mmap is not.
    expect(ev.map((e) => `${e.op}${e.access ? ':' + e.access : ''}`)).toEqual([
      'mmap',
      'gpu_fault:atomic',
      'cpu_read',
      'gpu_fault:read',
      'gpu_fault:atomic',
      'madvise',
      'mprotect',
      'munmap',
      'mmap',
      'munmap',
      'gpu_fault:read',
      'mmap',
    ]);
    expect(ev[0]).toEqual({ op: 'mmap', t: 0, addr: '0x7f0000000000', size: '0x400000', prot: 'rw', kind: 'anon' });
    expect(ev[2]).toEqual({ op: 'cpu_read', t: 900000, addr: '0x7f0000000010' });
    expect(ev[6]).toMatchObject({ op: 'mprotect', prot: 'r' }); // PROT_READ = 1
    expect(ev[11]).toMatchObject({ kind: 'shared' }); // flags 33 = MAP_SHARED | MAP_ANONYMOUS
    expect(r.stderr).toContain('2 repeated CPU fault on the same device page');
    expect(r.stderr).toContain('1 madvise advice 8');
  });

  test('--gpu-access write for non-atomic faults; the imported trace replays', async () => {
    const r = await runCli([
      'import',
      `${FIX}/capture-6.18.jsonl`,
      '--gpu-access',
      'write',
      '-o',
      join(dir, 'w.jsonl'),
    ]);
    expect(r.code).toBe(0);
    const text = r.files.get(join(dir, 'w.jsonl'))!;
    expect(
      events(text)
        .filter((e) => e.op === 'gpu_fault')
        .map((e) => e.access),
    ).toEqual(['atomic', 'write', 'atomic', 'write']);
    writeFileSync(join(dir, 'w.jsonl'), text);
    const rep = await runCli(['replay', join(dir, 'w.jsonl'), '--format', 'json']);
    expect(rep.code).toBe(0);
    const out = JSON.parse(rep.stdout);
    // Last fault (0x7f0000100000 after its munmap) finds no CPU VMA: -ENOENT, as the capture's -2.
    const faults = out.events.filter((e: { op: string }) => e.op === 'gpu_fault');
    expect(faults.at(-1).outcome).toBe('error');
    expect(faults.at(-1).errno).toBe('ENOENT');
  });

  test('observations: labels per probe, PAGE FAULT decided by what the attempt does next', async () => {
    const log = observationsFromBpftrace(`${FIX}/capture-6.18.jsonl`);
    expect(log.kind).toBe('bpftrace');
    expect([...log.alphabet].sort()).toEqual([
      'ALLOCATE VRAM',
      'GARBAGE COLLECTOR',
      'GET PAGES',
      'PAGE FAULT',
      'PAGE FAULT - VALID',
    ]);
    const obs = [...(log.observations as Iterable<KernelObservation>)];
    expect(obs.map((o) => `${o.source.line} ${o.label}`)).toEqual([
      '5 PAGE FAULT',
      '6 ALLOCATE VRAM',
      '9 GET PAGES',
      '15 PAGE FAULT',
      '17 ALLOCATE VRAM',
      '20 GET PAGES',
      '24 PAGE FAULT - VALID',
      '30 GARBAGE COLLECTOR',
    ]);
    expect(obs[0]).toMatchObject({ start: 0x7f0000000000n, end: 0x7f0000200000n });
    expect(obs[0].source.text).toContain('"ev":"range"');
  });

  test('6.16: ALLOCATE VRAM from drm_gpusvm_migrate_to_devmem, a valid fault prints nothing', async () => {
    const log = observationsFromBpftrace(`${FIX}/capture-6.16.jsonl`);
    expect(log.alphabet.has('PAGE FAULT - VALID')).toBe(false);
    expect([...(log.observations as Iterable<KernelObservation>)].map((o) => `${o.source.line} ${o.label}`)).toEqual([
      '4 PAGE FAULT',
      '5 ALLOCATE VRAM',
      '7 GET PAGES',
    ]);
    const r = await runCli(['import', `${FIX}/capture-6.16.jsonl`]);
    expect(r.code).toBe(0);
    await expect(r.stdout).toMatchFileSnapshot('__golden__/capture-6.16.trace.jsonl');
    expect(events(r.stdout).map((e) => e.op)).toEqual(['mmap', 'gpu_fault', 'gpu_fault', 'cpu_write']);
  });

  test.each([
    ['not JSON', '{"ts":1000,"ev":"mmap",', 2, /capture\.jsonl:2: expected a capture record/],
    ['unknown record', '{"ts":1000,"ev":"boom","tid":1}', 2, /:2: expected a capture record with "ev" one of/],
    [
      'bad field',
      '{"ts":1000,"ev":"munmap","tid":1,"addr":"7f00","len":"0x1000"}',
      2,
      /:2: record "munmap": field "addr": expected a hex string/,
    ],
    [
      'no timestamp first',
      '{"ev":"munmap","ts":1000,"tid":1,"addr":"0x1000","len":"0x1000"}',
      2,
      /:2: expected a capture record \{"ts":NS/,
    ],
  ])('malformed: %s → exit 2 with file:line', async (_name, bad, code, msg) => {
    const file = join(dir, 'capture.jsonl');
    writeFileSync(file, `${readFileSync(`${FIX}/capture-6.16.jsonl`, 'utf8').split('\n')[0]}\n${bad}\n`);
    const r = await runCli(['import', file, '--from', 'bpftrace']);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(msg);
    expect(r.stdout).toBe('');
  });

  test('malformed header: missing, wrong kernel', async () => {
    const file = join(dir, 'nohead.jsonl');
    writeFileSync(file, '{"ts":1000,"ev":"munmap","tid":1,"addr":"0x1000","len":"0x1000"}\n');
    const r = await runCli(['import', file, '--from', 'bpftrace']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nohead\.jsonl:1: expected the capture header/);
    writeFileSync(file, '{"svmsim_capture":"bpftrace","v":1,"kernel":"5.4","pid":1,"ts":0}\n');
    expect((await runCli(['import', file])).stderr).toMatch(
      /nohead\.jsonl:1: field "kernel": expected one of 6.15-rc1, 6.15, 6.16, 6.17, 6.18/,
    );
  });
});

describe('import --from kfd-smi (KFD_SMI_EVENT_* of kfd_ioctl.h)', () => {
  test('page faults, user prefetch, CPU-fault migrations and CPU unmaps; in time order (golden)', async () => {
    const r = await runCli(['import', `${FIX}/kfd-smi.txt`]);
    expect(r.code).toBe(0);
    await expect(r.stdout).toMatchFileSnapshot('__golden__/kfd-smi.trace.jsonl');
    // Addresses are pages: @7f0000010 → 0x7f0000010000. MIGRATE_START trigger 0 (PREFETCH) to
    // node 1 → xe_prefetch vram of 0x400 pages; trigger 2 (PAGEFAULT_CPU) → cpu_read; trigger 1
    // (PAGEFAULT_GPU) → nothing (the fault is already there). UNMAP_FROM_GPU trigger 2 → munmap.
    // The fault at 1399999000 comes before the prefetch at 1400000000 (reorder window).
    expect(
      events(r.stdout).map((e) => `${e.op} ${e.addr}${e.size ? ' ' + e.size : ''}${e.region ? ' ' + e.region : ''}`),
    ).toEqual([
      'gpu_write 0x7f0000000000',
      'gpu_read 0x7f0000010000',
      'cpu_read 0x7f0000000000',
      'gpu_read 0x7f0000200000',
      'xe_prefetch 0x7f0000400000 0x400000 vram',
      'munmap 0x7f0000000000 0x200000',
      'gpu_read 0x7f0000000000',
    ]);
    expect(r.stderr).toContain('events of 2 processes (4338, 9999)');
    const one = await runCli(['import', `${FIX}/kfd-smi.txt`, '--pid', '4338']);
    expect(events(one.stdout)).toHaveLength(6);
  });

  test("a long import lets the event loop run every PAUSE_EVERY records (Ctrl-C removes `-o`'s temporary file during the import, not after it)", async () => {
    const n = 2 * PAUSE_EVERY + 5;
    const lines = Array.from(
      { length: n },
      (_, i) => `7 ${1000000 + i * 1000} -4338 @${(0x7f0000000 + i).toString(16)}(1) R`,
    );
    const file = join(dir, 'long-smi.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    let pauses = 0;
    let events = 0;
    const sink = { header() {}, event: () => void events++, comment() {}, note() {} };
    await importerNamed('kfd-smi')!.run(file, sink, {
      gpuAccess: 'read',
      reorderWindowNs: 0n,
      pause: async () => void pauses++,
    });
    expect(events).toBe(n);
    expect(pauses).toBe(2);
  });

  test('a payload that does not follow its KFD_EVENT_FMT_* is bad input at its line', async () => {
    const file = join(dir, 'smi.txt');
    writeFileSync(file, '7 1200000000 -4338 @7f0000000(1) W\n7 1200001000 -4338 @7f0000000(200) 0->1 0:1 1\n');
    const r = await runCli(['import', file, '--from', 'kfd-smi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'smi.txt:2: event 7 (KFD_SMI_EVENT_PAGE_FAULT_START): expected payload "%lld -%d @%lx(%x) %c"',
    );
    writeFileSync(file, 'hello world\n');
    expect((await runCli(['import', file, '--from', 'kfd-smi'])).stderr).toMatch(
      /smi\.txt:1: expected a KFD SMI event line/,
    );
  });
});

describe('import --from nsys-sqlite (CUDA_UM_*_PAGE_FAULT_EVENTS, CUPTI_ACTIVITY_KIND_MEMCPY)', () => {
  test('faults by access type, user prefetches both ways; driver migrations skipped (golden)', async () => {
    const db = nsysDb(readFileSync(`${FIX}/nsys-um.sql`, 'utf8'));
    const r = await runCli(['import', db]);
    expect(r.code).toBe(0);
    await expect(r.stdout.replace(db, 'nsys-um.sqlite')).toMatchFileSnapshot('__golden__/nsys-um.trace.jsonl');
    // faultAccessType 2 write, 1 read, 3 atomic (4 prefetch skipped); copyKind 11/12 with
    // migrationCause 1 (USER) → xe_prefetch vram/smem; cause 2 (COHERENCE) and copyKind 1 skipped.
    expect(events(r.stdout).map((e) => `${e.t} ${e.op} ${e.addr}${e.region ? ' ' + e.region : ''}`)).toEqual([
      '0 xe_prefetch 0x7f0000000000 vram',
      '19000 gpu_write 0x7f0000200000',
      '19000 gpu_read 0x7f0000201000',
      '39000 gpu_atomic 0x7f0000000000',
      '49000 cpu_read 0x7f0000000040',
      '59000 xe_prefetch 0x7f0000000000 smem',
      '79000 gpu_read 0x7f0000000000',
    ]);
    const one = await runCli(['import', db, '--pid', '4338']);
    expect(events(one.stdout)).toHaveLength(6);
  });

  test('not SQLite, no UM table, a missing column, a bad row: exit 2', async () => {
    const txt = join(dir, 'not.sqlite');
    writeFileSync(txt, 'just text\n');
    const a = await runCli(['import', txt, '--from', 'nsys-sqlite']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/not\.sqlite: expected an Nsight Systems SQLite export/);
    const empty = nsysDb('CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL);');
    expect((await runCli(['import', empty])).stderr).toMatch(
      /expected at least one of the tables CUDA_UM_GPU_PAGE_FAULT_EVENTS/,
    );
    const old = nsysDb(
      'CREATE TABLE CUDA_UM_GPU_PAGE_FAULT_EVENTS (start INTEGER, address INTEGER, globalPid INTEGER);',
    );
    expect((await runCli(['import', old])).stderr).toMatch(
      /table CUDA_UM_GPU_PAGE_FAULT_EVENTS: expected column faultAccessType/,
    );
    const badRow = nsysDb(
      'CREATE TABLE CUDA_UM_GPU_PAGE_FAULT_EVENTS (start INTEGER, end INTEGER, globalPid INTEGER, deviceId INTEGER, address INTEGER, numberOfPageFaults INTEGER, faultAccessType INTEGER);' +
        'INSERT INTO CUDA_UM_GPU_PAGE_FAULT_EVENTS VALUES (1, 2, 0, 0, 4096, 1, 1), (5, 6, 0, 0, 8192, 1, 9);',
    );
    const b = await runCli(['import', badRow]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(
      /\.sqlite:2: table CUDA_UM_GPU_PAGE_FAULT_EVENTS rowid 2: column faultAccessType: expected 0-4/,
    );
  });
});

describe('import: kind and errors', () => {
  test('the kind is recognised without --from; an unknown capture is a usage error', async () => {
    expect((await runCli(['import', `${FIX}/kfd-smi.txt`])).stderr).toContain('(kfd-smi)');
    expect((await runCli(['import', `${FIX}/capture-6.16.jsonl`])).stderr).toContain('(bpftrace)');
    const r = await runCli(['import', 'traces/01-first-touch-2m.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'cannot tell what kind of capture this is; name it with --from (bpftrace, kfd-smi, nsys-sqlite, dmesg)',
    );
    expect((await runCli(['import', join(dir, 'missing.jsonl'), '--from', 'bpftrace'])).code).toBe(2);
  });

  test('bad options are usage errors (exit 2)', async () => {
    const w = await runCli(['import', `${FIX}/kfd-smi.txt`, '--reorder-window', 'soon']);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain(
      "option '--reorder-window <time>' argument 'soon' is invalid. Expected a time such as 500us",
    );
    expect((await runCli(['import', `${FIX}/kfd-smi.txt`, '--pid', 'x1'])).stderr).toContain(
      "option '--pid <pid>' argument 'x1' is invalid. Expected a non-negative integer.",
    );
    expect((await runCli(['import', `${FIX}/kfd-smi.txt`, '--from', 'pcap'])).code).toBe(2);
  });

  test('a line later than the reorder window is written at the previous time, and counted', async () => {
    const file = join(dir, 'late.txt');
    // ns 1000, 5000, 9000, then 2000: with a 1 us window, 1000 and 5000 are out before 2000 arrives.
    writeFileSync(
      file,
      ['7 1000 -1 @1(1) R', '7 5000 -1 @2(1) R', '7 9000 -1 @3(1) R', '7 2000 -1 @4(1) R', ''].join('\n'),
    );
    const r = await runCli(['import', file, '--reorder-window', '1us']);
    expect(events(r.stdout).map((e) => `${e.t} ${e.addr}`)).toEqual([
      '0 0x1000',
      '4000 0x2000',
      '4000 0x4000',
      '8000 0x3000',
    ]);
    expect(r.stderr).toContain(
      '1 event earlier than the one before (outside the reorder window) written at the previous time',
    );
  });

  test('capture --script prints the program; without --script it is a usage error', async () => {
    const r = await runCli(['capture', '--script', '--kernel', '6.16', '--pid', '99']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kprobe:drm_gpusvm_migrate_to_devmem');
    expect(r.stdout).toContain('/pid == 99/');
    expect((await runCli(['capture'])).code).toBe(2);
  });
});

describe('ReorderWindow', () => {
  fcTest.prop([
    fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 100 })), { maxLength: 200 }),
  ])('lines late by at most the window come out in time order, ties in arrival order', (items) => {
    // Arrival times: a running maximum; each item is stamped up to 100 ns before its arrival.
    let now = 0;
    const stamped = items.map(([dt, late], i) => {
      now += dt;
      return { t: Math.max(0, now - late), i };
    });
    const w = new ReorderWindow<{ t: number; i: number }>(100);
    const out: { t: number; i: number }[] = [];
    for (const s of stamped) w.push(s.t, s, out);
    w.drain(out);
    const sorted = [...stamped].sort((a, b) => a.t - b.t || a.i - b.i);
    expect(out).toEqual(sorted);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/capture.md shows real output', () => {
  test('the import examples are what the commands print on the fixtures', async () => {
    const doc = readFileSync('docs/capture.md', 'utf8');
    const cap = join(dir, 'capture.jsonl');
    writeFileSync(cap, readFileSync(`${FIX}/capture-6.18.jsonl`));
    const r = await runCli(['import', cap, '-o', join(dir, 'trace.jsonl')]);
    for (const l of r.stderr.split('\n').filter(Boolean))
      expect(doc).toContain(l.replaceAll(cap, 'capture.jsonl').replaceAll(join(dir, 'trace.jsonl'), 'trace.jsonl'));
    const trace = r.files.get(join(dir, 'trace.jsonl'))!.replaceAll(cap, 'capture.jsonl');
    for (const l of trace.split('\n').slice(0, 15)) expect(doc).toContain(l);
    const smi = join(dir, 'kfd-smi.txt');
    writeFileSync(smi, readFileSync(`${FIX}/kfd-smi.txt`));
    const k = await runCli(['import', smi, '--pid', '4338', '-o', join(dir, 'amd.jsonl')]);
    for (const l of k.stderr.split('\n').filter(Boolean))
      expect(doc).toContain(l.replaceAll(smi, 'kfd-smi.txt').replaceAll(join(dir, 'amd.jsonl'), 'amd.jsonl'));
  });
});
