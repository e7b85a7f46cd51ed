/**
 * DOC: Model invariants checked after an event
 *
 * What must hold between events whatever the trace did; a violation is a simulator bug
 * (ModelInvariantError, exit 3):
 *
 * - ranges are 4K, 64K or 2M, naturally aligned, never overlap, and lie inside their notifier
 *   and one GPU VMA, and (unless already unmapped and queued for the GC) are fully CPU-mapped
 *   (one VMA at creation; mprotect may split it later);
 * - no linked notifier is empty;
 * - an unmapped range has no valid binding;
 * - VRAM used equals the sum of live BOs and never exceeds capacity;
 * - every device page belongs to a live BO, each BO's resident count equals its device pages,
 *   and a BO without device pages has been freed;
 * - a range with has_devmem_pages maps exactly its BO's pages;
 * - per process: everything above for its own mm and VM, and its device pages point only at BOs
 *   of its own (a BO's pages live in one mm); for the shared pool: used VRAM is the sum over every
 *   process's live BOs and each BO's resident count is what its owner's page table holds.
 */

import type { SimContext } from './context.js';
import { NO_BO } from './drm-pagemap/pagemap.js';
import { ModelInvariantError } from './invariant.js';
import { isDevicePte, pteBo } from './mm/page-table.js';
import { enterProcess } from './processes.js';

function fail(what: string): never {
  throw new ModelInvariantError(what);
}

const hex = (page: number) => '0x' + (BigInt(page) << 12n).toString(16);

/** Check every invariant of every process and of the shared pool; throws ModelInvariantError naming the first that fails. */
export function checkInvariants(sim: SimContext): void {
  const cur = sim.proc;
  const resident = new Map<number, number>();
  try {
    for (const p of sim.procs.values()) {
      enterProcess(sim, p);
      checkProcess(sim, p.pid, resident);
    }
  } finally {
    enterProcess(sim, cur);
  }
  checkPool(sim, resident);
}

/** The invariants of the current process; adds its device pages per BO to `resident`. */
function checkProcess(sim: SimContext, pid: number, resident: Map<number, number>): void {
  const who = sim.procs.size > 1 ? `pid ${pid}: ` : '';
  const fail = (what: string): never => {
    throw new ModelInvariantError(who + what);
  };
  let prevEnd = -1;
  for (const n of [...sim.gpusvm.notifiers.values()].sort((a, b) => a.start - b.start)) {
    if (n.ranges.length === 0) fail(`notifier ${hex(n.start)} is linked with no ranges`);
    for (const r of n.ranges) {
      const sz = r.end - r.start;
      const where = `range [${hex(r.start)}, ${hex(r.end)})`;
      if (sz !== 1 && sz !== 16 && sz !== 512) fail(`${where} has size ${sz} pages`);
      if (r.start % sz !== 0) fail(`${where} is not naturally aligned`);
      if (r.start < prevEnd) fail(`${where} overlaps the previous range`);
      prevEnd = r.end;
      if (r.start < n.start || r.end > n.end) fail(`${where} leaves its notifier`);
      const g = sim.vm.findVma(r.start);
      if (g === undefined || r.end > g.end) fail(`${where} is not inside one GPU VMA`);
      if (r.unmapped && r.valid) fail(`${where} is unmapped but still has a valid binding`);
      if (!r.unmapped) {
        // mprotect may split a CPU VMA under a range; the range must still be fully mapped.
        let covered = r.start;
        for (const v of sim.mm.vmas.overlapping(r.start, r.end)) {
          if (v.start > covered) break;
          covered = Math.max(covered, v.end);
        }
        if (covered < r.end) fail(`${where} is not fully covered by CPU VMAs`);
      }
      if (r.hasDevmemPages) {
        const s = sim.mm.pt.summarize(r.start, r.end);
        if (s.device !== r.npages || s.deviceBo !== r.devmemBo)
          fail(`${where} has_devmem_pages but not every page is in BO ${r.devmemBo}`);
      }
    }
  }

  sim.mm.pt.checkInvariants();
  let inVmas = 0;
  for (const v of sim.mm.vmas.all()) {
    for (const run of sim.mm.pt.runs(v.start, v.end)) {
      if (!isDevicePte(run.pte)) continue;
      const id = pteBo(run.pte);
      const pm = sim.pagemap;
      const bo = pm.find(id);
      if (bo !== NO_BO && pm.boPid[bo] !== pid)
        fail(`device pages at ${hex(run.start)} point at BO ${id} of pid ${pm.boPid[bo]}`);
      resident.set(id, (resident.get(id) ?? 0) + run.end - run.start);
      inVmas += run.end - run.start;
    }
  }
  let device = 0;
  for (const run of sim.mm.pt.runs(0, Number.MAX_SAFE_INTEGER)) if (isDevicePte(run.pte)) device += run.end - run.start;
  if (device !== inVmas) fail(`${device - inVmas} device pages lie outside every CPU VMA`);
}

/** The shared VRAM pool: every BO's resident count matches the page tables, used = sum of BOs. */
function checkPool(sim: SimContext, resident: Map<number, number>): void {
  let used = 0;
  const pm = sim.pagemap;
  for (const bo of pm.values()) {
    const id = pm.boId[bo];
    used += pm.boNpages[bo];
    const n = resident.get(id) ?? 0;
    if (n !== pm.boResident[bo])
      fail(`BO ${id} counts ${pm.boResident[bo]} resident pages but ${n} device pages point at it`);
    if (n === 0) fail(`BO ${id} has no device pages but was not freed`);
  }
  for (const id of resident.keys()) if (pm.find(id) === NO_BO) fail(`device pages point at freed BO ${id}`);
  if (used !== sim.pagemap.usedPages) fail(`VRAM used ${sim.pagemap.usedPages} pages != sum of live BOs ${used}`);
  if (used > sim.pagemap.capacityPages) fail(`VRAM used ${used} pages exceeds capacity ${sim.pagemap.capacityPages}`);
}
