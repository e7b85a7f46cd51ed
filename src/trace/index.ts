/**
 * The trace-input layer: schemas, values and readers. See parse.ts.
 */
export {
  detectFormat,
  checkText,
  MAX_JSON_BYTES,
  newCursor,
  parseCsvHeader,
  parseCsvRecord,
  csvRowObject,
  parseExpectObject,
  type TraceExpect,
  parseEventObject,
  parseJsonlLine,
  parsePlatformObject,
  parsePlatformSettings,
  sniffFormat,
  TraceInputError,
  type EventCursor,
  type ParsedEvent,
  type ParsedTrace,
  type TraceFormat,
} from './parse.js';
export type { Expect, TraceEvent } from './schema.js';
export { PLATFORM_ALIASES } from './rules.js';
export { MAX_ACCESS_BYTES, OP_NAMES } from './rules.js';
export { eventPuller, MAX_LINE_BYTES } from './stream.js';
export { parseAddr, parseSize, parseTime, ValueError } from './values.js';
export { duplicateKey, show } from './parse.js';
export { openStream, openTrace, parseTrace, sha256File, sha256Text, type TraceHandle } from './read.js';
export { FileLines, TextLines, TraceReader, type LineSource } from './stream.js';
export { fastEvent } from './fast.js';
export { ByteEvent, CsvByteReader } from './csv-bytes.js';
export { Linter, type LintCode, type LintWarning } from './lint.js';
