/**
 * DOC: Importer registry
 *
 * Every `svmsim import --from KIND` is one entry here (src/import/types.ts `Importer`). Without
 * --from, the first importer whose `sniff` accepts the capture's first 64 KiB is used. To add a
 * kind, write its module and list it below.
 */

import { bpftraceImporter, readHead } from './bpftrace.js';
import { kfdSmiImporter } from './kfd-smi.js';
import { nsysSqliteImporter } from './nsys-sqlite.js';
import type { Importer } from './types.js';

export const IMPORTERS: readonly Importer[] = [bpftraceImporter, kfdSmiImporter, nsysSqliteImporter];

export function importerNamed(name: string): Importer | undefined {
  return IMPORTERS.find((i) => i.name === name);
}

/** The importer that recognises this capture, or undefined. */
export function sniffImporter(file: string): Importer | undefined {
  const head = readHead(file);
  return IMPORTERS.find((i) => i.sniff(head, file));
}
