/**
 * The trace-input layer: schemas, values and readers. See parse.ts.
 */
export {
  detectFormat,
  MAX_JSON_BYTES,
  newCursor,
  parseCsvHeader,
  parseCsvRecord,
  csvRowObject,
  parseEventObject,
  parseJsonlLine,
  parsePlatformObject,
  parsePlatformSettings,
  parseTrace,
  sniffFormat,
  TraceInputError,
  type EventCursor,
  type ParsedEvent,
  type ParsedTrace,
  type TraceFormat,
} from './parse.js';
export { eventSchema, OP_NAMES, platformSchema, type TraceEvent } from './schema.js';
export { parseAddr, parseSize, parseTime, ValueError } from './values.js';
