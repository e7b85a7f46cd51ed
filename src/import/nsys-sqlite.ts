/**
 * DOC: Nsight Systems SQLite exports (`nsys export --type sqlite`)
 *
 * The unified-memory tables of an nsys export give the workload shape of a CUDA run:
 *
 * | table | rows used | imported as |
 * |---|---|---|
 * | CUDA_UM_GPU_PAGE_FAULT_EVENTS | every fault: `start`, `address`, `faultAccessType` (CUPTI: 1 read, 2 write, 3 atomic, 4 prefetch, 0 unknown) | `gpu_read` / `gpu_write` / `gpu_atomic` of the page (unknown: `--gpu-access`; prefetch faults are the driver's) |
 * | CUDA_UM_CPU_PAGE_FAULT_EVENTS | every fault: `start`, `address` | `cpu_read` of the page (the access kind is not recorded) |
 * | CUPTI_ACTIVITY_KIND_MEMCPY | `copyKind` 11 (unified HtoD) / 12 (unified DtoH) with `migrationCause` 1 (USER: cudaMemPrefetchAsync) | `xe_prefetch` of [`virtualAddress`, +`bytes`) to vram / smem; other causes (coherence, speculative prefetch, eviction, access counters) are the driver's decisions |
 *
 * Rows are read in `start` order through one streamed SQL query (SQLite sorts on disk, so memory
 * stays bounded). `globalPid` holds the pid in bits 24-47 (`--pid` filters on it). A file that
 * is not SQLite, or has none of the tables, or lacks a column, is bad input; a bad row names its
 * table and rowid (as the line). Read with better-sqlite3 (native, built from the npm tarball).
 */

import { TraceInputError } from '../trace/index.js';
import {
  PAUSE_EVERY,
  SkipCounter,
  type ImportedEvent,
  type Importer,
  type ImportOptions,
  type ImportSink,
} from './types.js';

const GPU = 'CUDA_UM_GPU_PAGE_FAULT_EVENTS';
const CPU = 'CUDA_UM_CPU_PAGE_FAULT_EVENTS';
const MEMCPY = 'CUPTI_ACTIVITY_KIND_MEMCPY';
const TABLES = [GPU, CPU, MEMCPY];

const COLUMNS: Record<string, string[]> = {
  [GPU]: ['start', 'address', 'faultAccessType', 'globalPid'],
  [CPU]: ['start', 'address', 'globalPid'],
  [MEMCPY]: ['start', 'copyKind', 'bytes', 'globalPid', 'virtualAddress', 'migrationCause'],
};

const COPY_UNIFIED_HTOD = 11n;
const COPY_UNIFIED_DTOH = 12n;
const MIGRATION_USER = 1n;
const ACCESS: Record<string, ImportedEvent['op'] | 'prefetch'> = {
  '1': 'gpu_read',
  '2': 'gpu_write',
  '3': 'gpu_atomic',
  '4': 'prefetch',
};

interface Row {
  t: bigint | null;
  k: bigint;
  a: bigint | null;
  x: bigint | null;
  b: bigint | null;
  c: bigint | null;
  pid: bigint | null;
  rid: bigint;
}

/** The pid of a serialized nsys GlobalId (bits 24..47). */
function pidOfGlobalId(g: bigint): number {
  return Number((g >> 24n) & 0xffffffn);
}

type Db = {
  prepare(sql: string): {
    safeIntegers(on: boolean): { iterate(): IterableIterator<unknown>; all(...p: unknown[]): unknown[] };
  };
  close(): void;
};

async function open(file: string): Promise<Db> {
  let Database: typeof import('better-sqlite3');
  try {
    ({ default: Database } = await import('better-sqlite3'));
  } catch {
    // An optional dependency: a native module compiled at install time, absent with --omit=optional.
    throw new TraceInputError(
      file,
      0,
      'reading an Nsight Systems SQLite export needs the optional dependency better-sqlite3, which is not installed (npm install better-sqlite3@12)',
    );
  }
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true }) as unknown as Db;
    db.prepare('SELECT count(*) FROM sqlite_master').safeIntegers(true).all();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'SQLITE_CANTOPEN')
      throw Object.assign(new Error('no such file'), { code: 'ENOENT', path: file });
    throw new TraceInputError(
      file,
      0,
      `expected an Nsight Systems SQLite export (nsys export --type sqlite): ${(e as Error).message}`,
    );
  }
  return db;
}

export const nsysSqliteImporter: Importer = {
  name: 'nsys-sqlite',
  describe: 'an Nsight Systems SQLite export (unified-memory faults and migrations)',
  sniff: (head) => head.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000',
  run: async (file: string, sink: ImportSink, o: ImportOptions) => {
    const db = await open(file);
    try {
      const present = new Set(
        (
          db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").safeIntegers(true).all() as {
            name: string;
          }[]
        ).map((r) => r.name),
      );
      const tables = TABLES.filter((t) => present.has(t));
      if (tables.length === 0)
        throw new TraceInputError(
          file,
          0,
          `expected at least one of the tables ${TABLES.join(', ')} (profile with --cuda-um-gpu-page-faults=true --cuda-um-cpu-page-faults=true)`,
        );
      for (const t of tables) {
        const cols = new Set(
          (db.prepare(`PRAGMA table_info(${t})`).safeIntegers(true).all() as { name: string }[]).map((c) => c.name),
        );
        const missing = COLUMNS[t].filter((c) => !cols.has(c));
        if (missing.length > 0)
          throw new TraceInputError(
            file,
            0,
            `table ${t}: expected column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (an nsys export of 2023.1 or later)`,
          );
      }
      const parts: string[] = [];
      if (present.has(GPU))
        parts.push(
          `SELECT start AS t, 0 AS k, address AS a, faultAccessType AS x, NULL AS b, NULL AS c, globalPid AS pid, rowid AS rid FROM ${GPU}`,
        );
      if (present.has(CPU)) parts.push(`SELECT start, 1, address, NULL, NULL, NULL, globalPid, rowid FROM ${CPU}`);
      if (present.has(MEMCPY))
        parts.push(
          `SELECT start, 2, virtualAddress, copyKind, bytes, migrationCause, globalPid, rowid FROM ${MEMCPY} WHERE copyKind IN (11, 12)`,
        );
      sink.header({}, [
        `Nsight Systems export (${tables.join(', ')}): the workload shape of a CUDA run (no mmap: replay with --implicit-mmap)`,
      ]);
      const skipped = new SkipCounter();
      const rows = db
        .prepare(`${parts.join(' UNION ALL ')} ORDER BY t, k, rid`)
        .safeIntegers(true)
        .iterate() as IterableIterator<Row>;
      let n = 0;
      for (const r of rows) {
        if (++n % PAUSE_EVERY === 0) await o.pause?.();
        const table = TABLES[Number(r.k)];
        const fail = (what: string) =>
          new TraceInputError(file, Number(r.rid), `table ${table} rowid ${r.rid}: ${what}`);
        if (r.t === null || r.t < 0n) throw fail(`column start: expected a timestamp in ns, found ${r.t}`);
        if (r.a === null || r.a < 0n || r.a >= 1n << 64n) throw fail(`expected an address below 2^64, found ${r.a}`);
        if (o.pid !== undefined && (r.pid === null || pidOfGlobalId(r.pid) !== o.pid)) {
          skipped.add('rows of other processes');
          continue;
        }
        if (r.k === 0n) {
          const op =
            r.x === null
              ? undefined
              : r.x === 0n
                ? o.gpuAccess === 'write'
                  ? 'gpu_write'
                  : 'gpu_read'
                : ACCESS[r.x.toString()];
          if (op === undefined)
            throw fail(`column faultAccessType: expected 0-4 (CUPTI unified-memory access type), found ${r.x}`);
          if (op === 'prefetch') skipped.add("GPU prefetch faults (the driver's)");
          else sink.event({ op, t: r.t, addr: r.a });
        } else if (r.k === 1n) {
          sink.event({ op: 'cpu_read', t: r.t, addr: r.a });
        } else {
          if (r.b === null || r.b <= 0n) throw fail(`column bytes: expected a positive size, found ${r.b}`);
          if (r.c !== MIGRATION_USER) {
            skipped.add(`unified-memory migrations caused by the driver (migrationCause ${r.c})`);
            continue;
          }
          const region = r.x === COPY_UNIFIED_HTOD ? 'vram' : r.x === COPY_UNIFIED_DTOH ? 'smem' : undefined;
          if (region === undefined) throw fail(`column copyKind: expected 11 or 12, found ${r.x}`);
          sink.event({ op: 'xe_prefetch', t: r.t, addr: r.a, size: r.b, region });
        }
      }
      const note = skipped.note('nsys rows not imported');
      if (note !== undefined) sink.note(note);
    } finally {
      db.close();
    }
  },
};
