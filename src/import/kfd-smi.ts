/**
 * DOC: AMD KFD SMI event lines
 *
 * The amdkfd System Management Interface fd (AMDKFD_IOC_SMI_EVENTS) delivers one text message
 * per event, written by `kfd_smi_event_add()` as `"%x "` (the event id, hex) followed by the
 * payload of the `KFD_EVENT_FMT_*` macro of include/uapi/linux/kfd_ioctl.h. A capture is those
 * messages, one per line. Addresses and sizes are in pages (hex), `ns` is boot time in ns.
 *
 * | id | event (enum kfd_smi_event) | payload | imported as |
 * |---|---|---|---|
 * | 7 | PAGE_FAULT_START | `%lld -%d @%lx(%x) %c` ns, pid, addr, node, R/W | `gpu_read` / `gpu_write` of the page |
 * | 5 | MIGRATE_START | `%lld -%d @%lx(%lx) %x->%x %x:%x %d` ns, pid, start, size, from, to, prefetch_loc, preferred_loc, trigger | trigger PREFETCH (0): `xe_prefetch` of the span (to 0 = system → smem, else vram); PAGEFAULT_CPU (2): `cpu_read` of the first page; others are the driver's own decisions |
 * | 11 | UNMAP_FROM_GPU | `%lld -%d @%lx(%lx) %x %d` ns, pid, addr, size, node, trigger | trigger UNMAP_FROM_CPU (2): `munmap` of the span; MMU notifier triggers are decisions |
 * | 6, 8 | MIGRATE_END, PAGE_FAULT_END | as above | not imported (decisions and their outcome) |
 * | 1–4, 9, 10 | VMFAULT, THERMAL_THROTTLE, GPU_PRE/POST_RESET, QUEUE_EVICTION, QUEUE_RESTORE | | not imported |
 *
 * The recording has no mmap: replay it with `--implicit-mmap`. A known id whose payload does not
 * follow its format (e.g. a kernel that renumbered the enum) is bad input naming the format.
 */

import { FileLines, TraceInputError } from '../trace/index.js';
import { relativeNs, ReorderWindow } from './reorder.js';
import {
  PAUSE_EVERY,
  SkipCounter,
  type ImportedEvent,
  type Importer,
  type ImportOptions,
  type ImportSink,
} from './types.js';

const NUM = '(-?[0-9]+)';
const HEXN = '([0-9a-fA-F]+)';

/** Payload grammars (KFD_EVENT_FMT_* of kfd_ioctl.h) by event id. */
const FORMATS: Record<number, { name: string; fmt: string; re: RegExp }> = {
  5: {
    name: 'MIGRATE_START',
    fmt: '%lld -%d @%lx(%lx) %x->%x %x:%x %d',
    re: new RegExp(`^${NUM} -${NUM} @${HEXN}\\(${HEXN}\\) ${HEXN}->${HEXN} ${HEXN}:${HEXN} ${NUM}$`),
  },
  6: {
    name: 'MIGRATE_END',
    fmt: '%lld -%d @%lx(%lx) %x->%x %d',
    re: new RegExp(`^${NUM} -${NUM} @${HEXN}\\(${HEXN}\\) ${HEXN}->${HEXN} ${NUM}$`),
  },
  7: {
    name: 'PAGE_FAULT_START',
    fmt: '%lld -%d @%lx(%x) %c',
    re: new RegExp(`^${NUM} -${NUM} @${HEXN}\\(${HEXN}\\) ([RW])$`),
  },
  8: {
    name: 'PAGE_FAULT_END',
    fmt: '%lld -%d @%lx(%x) %c',
    re: new RegExp(`^${NUM} -${NUM} @${HEXN}\\(${HEXN}\\) ([MU])$`),
  },
  9: { name: 'QUEUE_EVICTION', fmt: '%lld -%d %x %d', re: new RegExp(`^${NUM} -${NUM} ${HEXN} ${NUM}$`) },
  10: { name: 'QUEUE_RESTORE', fmt: '%lld -%d %x %c', re: new RegExp(`^${NUM} -${NUM} ${HEXN}( .)?$`) },
  11: {
    name: 'UNMAP_FROM_GPU',
    fmt: '%lld -%d @%lx(%lx) %x %d',
    re: new RegExp(`^${NUM} -${NUM} @${HEXN}\\(${HEXN}\\) ${HEXN} ${NUM}$`),
  },
};
/** Events without a timestamp or a process (reset, thermal, VM fault): counted and skipped. */
const OTHER: Record<number, string> = { 1: 'VMFAULT', 2: 'THERMAL_THROTTLE', 3: 'GPU_PRE_RESET', 4: 'GPU_POST_RESET' };

const TRIGGER_PREFETCH = 0;
const TRIGGER_PAGEFAULT_CPU = 2;
const UNMAP_TRIGGER_UNMAP_FROM_CPU = 2;
const PAGE = 12n;

const LINE = /^([0-9a-fA-F]+) (.*)$/;

function* kfdEvents(file: string, o: ImportOptions, skipped: SkipCounter, pids: Set<number>): Generator<ImportedEvent> {
  const lines = new FileLines(file);
  const win = new ReorderWindow<ImportedEvent>(Number(o.reorderWindowNs));
  let base: { big: bigint; num: number } | undefined;
  const ready: ImportedEvent[] = [];
  for (let l = lines.next(); l !== undefined; l = lines.next()) {
    const s = l.trim();
    if (s === '' || s.startsWith('#')) continue;
    const m = LINE.exec(s);
    if (m === null)
      throw new TraceInputError(
        file,
        lines.line,
        `expected a KFD SMI event line "ID PAYLOAD" (event id in hex, as kfd_smi_event_add writes it), found ${JSON.stringify(s.slice(0, 60))}`,
      );
    const id = Number.parseInt(m[1], 16);
    const f = FORMATS[id];
    if (f === undefined) {
      skipped.add(OTHER[id] !== undefined ? `${OTHER[id]} events` : `events with unknown id 0x${id.toString(16)}`);
      continue;
    }
    const p = f.re.exec(m[2]);
    if (p === null)
      throw new TraceInputError(
        file,
        lines.line,
        `event ${id} (KFD_SMI_EVENT_${f.name}): expected payload "${f.fmt}", found ${JSON.stringify(m[2].slice(0, 60))}`,
      );
    base ??= { big: BigInt(p[1]), num: Number(p[1]) };
    const pid = Number(p[2]);
    if (o.pid !== undefined && pid !== o.pid) {
      skipped.add('events of other processes');
      continue;
    }
    pids.add(pid);
    const ev = decode(id, p);
    if (ev === undefined) {
      skipped.add(`${f.name} events (the driver's doing, not workload input)`);
      continue;
    }
    win.push(relativeNs(p[1], base), ev, ready);
    yield* ready;
    ready.length = 0;
  }
  win.drain(ready);
  yield* ready;
}

function decode(id: number, p: RegExpExecArray): ImportedEvent | undefined {
  const t = BigInt(p[1]);
  const page = (i: number) => BigInt(`0x${p[i]}`) << PAGE;
  switch (id) {
    case 7:
      return { op: p[5] === 'W' ? 'gpu_write' : 'gpu_read', t, addr: page(3) };
    case 5: {
      const trigger = Number(p[9]);
      if (trigger === TRIGGER_PREFETCH)
        return { op: 'xe_prefetch', t, addr: page(3), size: page(4), region: p[6] === '0' ? 'smem' : 'vram' };
      if (trigger === TRIGGER_PAGEFAULT_CPU) return { op: 'cpu_read', t, addr: page(3) };
      return undefined;
    }
    case 11:
      return Number(p[6]) === UNMAP_TRIGGER_UNMAP_FROM_CPU
        ? { op: 'munmap', t, addr: page(3), size: page(4) }
        : undefined;
    default:
      return undefined;
  }
}

export const kfdSmiImporter: Importer = {
  name: 'kfd-smi',
  describe: 'AMD KFD SMI event lines ("ID PAYLOAD" as read from the SMI event fd)',
  sniff: (head) => {
    for (const l of head.toString('utf8').split('\n')) {
      const s = l.trim();
      if (s === '' || s.startsWith('#')) continue;
      return /^[0-9a-fA-F]+ -?[0-9]+ -[0-9]+ /.test(s) || /^[1-4] /.test(s);
    }
    return false;
  },
  run: async (file: string, sink: ImportSink, o: ImportOptions) => {
    sink.header({}, [
      'AMD KFD SMI events: the workload shape of another vendor run (no mmap: replay with --implicit-mmap)',
    ]);
    const skipped = new SkipCounter();
    const pids = new Set<number>();
    let n = 0;
    for (const e of kfdEvents(file, o, skipped, pids)) {
      sink.event(e);
      if (++n % PAUSE_EVERY === 0) await o.pause?.();
    }
    if (pids.size > 1)
      sink.note(
        `events of ${pids.size} processes (${[...pids].sort((a, b) => a - b).join(', ')}) in one trace: pick one with --pid`,
      );
    const note = skipped.note('KFD SMI events not imported');
    if (note !== undefined) sink.note(note);
  },
};
