/**
 * DOC: JSON Schemas of the trace and result formats
 *
 * schemas/trace.schema.json and schemas/result.schema.json are generated from the zod schemas
 * (zod's own z.toJSONSchema), so an editor or a standard validator (ajv, ...) checks a trace
 * against the same rules as svmsim. The value fields (addresses, sizes, times, knobs) are parsers
 * in zod; their JSON Schema shape comes from the same syntax tables (values.ts, via
 * `jsonSchemaOverride`). A JSON Schema checks the shape — field names, enum values, value
 * syntax — not what needs the whole trace (time never decreasing) or arithmetic (below 2^64).
 *
 * `npm run schemas` writes the files (scripts/schemas.mjs); a test regenerates them in memory and
 * fails when the committed files differ.
 */

import { z } from 'zod';
import { resultDocumentSchema } from './result.js';
import { eventSchema, expectSchema, jsonSchemaOverride, PLATFORM_ALIASES, platformSchema } from './schema.js';

const OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', override: jsonSchemaOverride } as const;

type Json = Record<string, unknown>;

function toJson(schema: z.ZodType): Json {
  const j = z.toJSONSchema(schema, OPTIONS) as Json;
  delete j.$schema;
  return j;
}

/** The platform header: every knob, and each alias with its knob's shape. */
function platformJson(): Json {
  const j = toJson(platformSchema);
  const props = j.properties as Record<string, Json>;
  for (const [alias, knob] of Object.entries(PLATFORM_ALIASES)) {
    props[alias] = {
      ...props[knob],
      description: `Alias of "${knob}".${alias === 'svm_notifier_size' ? ' A bare number is MiB.' : ''}`,
    };
  }
  return j;
}

/**
 * Value shapes used by many fields, written once under $defs: a field schema whose `anyOf` is one
 * of these becomes a `$ref` (keeping its description).
 */
function hoistValues(root: Json, names: Record<string, Json>): void {
  const keyOf = (j: unknown) => JSON.stringify(j);
  const byShape = new Map(Object.entries(names).map(([name, shape]) => [keyOf(shape), name]));
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const o = node as Json;
    if (o.anyOf !== undefined) {
      const name = byShape.get(keyOf({ anyOf: o.anyOf }));
      if (name !== undefined) {
        const { anyOf: _, ...rest } = o;
        return { ...rest, $ref: `#/$defs/${name}` };
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v)]));
  };
  for (const k of Object.keys(root)) root[k] = walk(root[k]);
}

/** The JSON Schema of one value field of the event schema (its shape without the description). */
function valueShape(field: string): Json {
  const event = toJson(eventSchema) as { oneOf: { properties: Record<string, Json> }[] };
  const { description: _, ...shape } = event.oneOf[0].properties[field];
  return shape;
}

/**
 * schemas/trace.schema.json: a JSON document trace, a JSONL line (header or event), and the event
 * shape of every encoding (a CSV row is an event whose values are strings) under $defs.
 */
function traceJsonSchema(): Json {
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` });
  const values = {
    address: valueShape('addr'),
    size: valueShape('size'),
    time: valueShape('t'),
    pid: valueShape('pid'),
  };
  const schema: Json = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'svmsim trace',
    description:
      'An svmsim trace (docs/trace-format.md): a JSON document {"svmsim": 1, "events": [...]}, or one line of a JSONL trace (the header {"svmsim": 1, ...} or an event). ' +
      'A CSV row is an event whose values are strings (empty cell = absent). Generated from the zod schemas by `npm run schemas`.',
    anyOf: [ref('document'), ref('jsonlLine')],
    $defs: {
      event: { description: 'One event, in any encoding.', ...toJson(eventSchema) },
      platform: { description: 'Platform knobs (docs/platform.md).', ...platformJson() },
      expect: { description: 'What the replay must produce (svmsim test).', ...toJson(expectSchema) },
      document: {
        type: 'object',
        description: 'A JSON document trace.',
        properties: {
          svmsim: { const: 1 },
          platform: ref('platform'),
          events: { type: 'array', minItems: 1, items: ref('event') },
          expect: ref('expect'),
          comment: { type: 'string' },
        },
        required: ['svmsim', 'events'],
        additionalProperties: false,
      },
      jsonlHeader: {
        type: 'object',
        description: 'The optional first line of a JSONL trace.',
        properties: {
          svmsim: { const: 1 },
          platform: ref('platform'),
          expect: ref('expect'),
          comment: { type: 'string' },
        },
        required: ['svmsim'],
        additionalProperties: false,
      },
      jsonlLine: { description: 'One line of a JSONL trace.', anyOf: [ref('jsonlHeader'), ref('event')] },
    },
  };
  hoistValues(schema, values);
  Object.assign(schema.$defs as Json, {
    address: {
      description: 'An address: hex string with 0x, or a JSON integer (decimal); below 2^64.',
      ...values.address,
    },
    size: {
      description: 'A size in bytes, greater than 0: hex, integer, or with a K/M/G/T suffix (binary units).',
      ...values.size,
    },
    time: { description: 'A time in ns: integer, or with a unit ns/us/ms/s.', ...values.time },
    pid: { description: 'A process id from 1 to 2^31-1.', ...values.pid },
  });
  return schema;
}

/** schemas/result.schema.json: the `svmsim replay --format json` document (docs/result-format.md). */
function resultJsonSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'svmsim result',
    description:
      'The result of `svmsim replay --format json` (docs/result-format.md); `--format jsonl` writes the same parts one per line. Generated from the zod schema by `npm run schemas`.',
    ...toJson(resultDocumentSchema),
  };
}

/** The text of the schema files (stable: two-space JSON and a final newline). */
export function schemaFiles(): Record<string, string> {
  return {
    'schemas/trace.schema.json': JSON.stringify(traceJsonSchema(), null, 2) + '\n',
    'schemas/result.schema.json': JSON.stringify(resultJsonSchema(), null, 2) + '\n',
  };
}
