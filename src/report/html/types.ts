/**
 * DOC: HTML report — the data the page draws
 *
 * What `svmsim report` embeds in the page (as compressed JSON) for its charts: per configuration
 * ("run"), binned time series and the lanes of the busiest ranges. Tables (header, thrashing,
 * GT stats, knobs, side-by-side counters) are plain HTML written by the CLI, not data here.
 * Shared, as types only, by the collector (report-data.ts) and the page script (page.ts).
 */

/** Lane state bits per bin (several bits: the range changed state within the bin). */
export const STATE_BITS = { vram: 1, smem: 2, mixed: 4, invalid: 8, destroyed: 16 } as const;

/** Kinds of marks on a lane. */
export const MARK_KINDS = ['fault', 'failed fault', 'to VRAM', 'to RAM', 'invalidate', 'GC / removed'] as const;
export type MarkKind = 0 | 1 | 2 | 3 | 4 | 5;

export interface LaneDoc {
  /** [start, end) in hex. */
  span: string;
  /** 4K / 64K / 2M. */
  size: string;
  /** Faults, migrations, invalidations and removals of this range over the whole replay. */
  activity: number;
  /** First bin with a recorded state. */
  fromBin: number;
  /** States recorded from the range's creation (else only from `fromBin`: earlier is not tracked). */
  fromStart: boolean;
  /** One character per bin: the state bits as a base-32 digit ('0' = not tracked / not existing). */
  states: string;
  /** Kept marks, flattened: x, kind, hover text index, click text index (into RunDoc.texts). */
  marks: number[];
  /** Marks of this range seen since `fromBin` (kept marks are a deterministic sample when more). */
  marksSeen: number;
}

export interface RunDoc {
  label: string;
  capacityMiB: number;
  /** Bin width in the axis unit (ms of trace time, or events). */
  binWidth: number;
  bins: number;
  /** Per-bin series (length `bins`): see SERIES. Levels hold null where nothing changed. */
  series: Record<SeriesName, (number | null)[]>;
  lanes: LaneDoc[];
  /** Distinct ranges that had activity (lanes show the busiest `lanes.length`). */
  rangesSeen: number;
  texts: string[];
}

export const SERIES = [
  'vram4k',
  'vram64k',
  'vram2m',
  'vramOther',
  'evictions',
  'toVramMiB',
  'toRamMiB',
  'faults4k',
  'faults64k',
  'faults2m',
  'faultsFailed',
] as const;
export type SeriesName = (typeof SERIES)[number];

export interface ReportDoc {
  /** 'time': x in ms of trace time; 'seq': x is the event index (the trace has no times). */
  axis: 'time' | 'seq';
  runs: RunDoc[];
}
