/**
 * DOC: Model invariants checked after an event
 *
 * What must hold between events whatever the trace did; a violation is a simulator bug
 * (ModelInvariantError, exit 3):
 *
 * - ranges are 4K, 64K or 2M, naturally aligned, never overlap, and lie inside their notifier,
 *   one GPU VMA and (unless already unmapped and queued for the GC) one CPU VMA;
 * - no linked notifier is empty;
 * - an unmapped range has no valid binding;
 * - VRAM used equals the sum of live BOs and never exceeds capacity;
 * - every device page belongs to a live BO, each BO's resident count equals its device pages,
 *   and a BO without device pages has been freed;
 * - a range with has_devmem_pages maps exactly its BO's pages.
 */

import type { SimContext } from './context.js';
import { ModelInvariantError } from './invariant.js';
import { isDevicePte, pteBo } from './mm/page-table.js';

function fail(what: string): never {
  throw new ModelInvariantError(what);
}

const hex = (page: number) => '0x' + (BigInt(page) << 12n).toString(16);

/** Check every invariant; throws ModelInvariantError naming the first that fails. */
export function checkInvariants(sim: SimContext): void {
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
        const v = sim.mm.vmas.lookup(r.start);
        if (v === undefined || r.end > v.end) fail(`${where} is not inside one CPU VMA`);
      }
      if (r.hasDevmemPages) {
        for (let p = r.start; p < r.end; p++) {
          const pte = sim.mm.pt.get(p);
          if (!isDevicePte(pte) || pteBo(pte) !== r.devmemBo) fail(`${where} has_devmem_pages but page ${hex(p)} is not in BO ${r.devmemBo}`);
        }
      }
    }
  }

  const resident = new Map<number, number>();
  sim.mm.pt.checkInvariants();
  for (const v of sim.mm.vmas.all()) {
    sim.mm.pt.forEachPresent(v.start, v.end, (_p, pte) => {
      if (isDevicePte(pte)) resident.set(pteBo(pte), (resident.get(pteBo(pte)) ?? 0) + 1);
    });
  }
  let totalResident = 0;
  for (const n of resident.values()) totalResident += n;
  let device = 0;
  sim.mm.pt.forEachPresent(0, Number.MAX_SAFE_INTEGER, (_p, pte) => {
    if (isDevicePte(pte)) device++;
  });
  if (device !== totalResident) fail(`${device - totalResident} device pages lie outside every CPU VMA`);

  let used = 0;
  for (const bo of sim.pagemap.bos.values()) {
    used += bo.npages;
    const n = resident.get(bo.id) ?? 0;
    if (n !== bo.resident) fail(`BO ${bo.id} counts ${bo.resident} resident pages but ${n} device pages point at it`);
    if (n === 0) fail(`BO ${bo.id} has no device pages but was not freed`);
  }
  for (const id of resident.keys()) if (!sim.pagemap.bos.has(id)) fail(`device pages point at freed BO ${id}`);
  if (used !== sim.pagemap.usedPages) fail(`VRAM used ${sim.pagemap.usedPages} pages != sum of live BOs ${used}`);
  if (used > sim.pagemap.capacityPages) fail(`VRAM used ${used} pages exceeds capacity ${sim.pagemap.capacityPages}`);
}
