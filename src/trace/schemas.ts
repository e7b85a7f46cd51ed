/**
 * DOC: The zod schemas, reached at their first use
 *
 * Every reader decides a row the fast paths do not take, a platform header or an `#! expect`
 * line by the zod schemas of schema.ts (the one definition of an event). A clean canonical CSV
 * trace never reaches them, and evaluating zod and building the schemas costs ~20 ms of CPU at
 * every start-up: so the trace layer takes them from schemas(), at the time of use, never at a
 * module's top level. In the bundle, scripts/build.mjs gives this module a body that evaluates
 * schema.ts (and zod) at the first call (esbuild's lazily initialised module); under vitest and
 * tsc it is the plain import below. Either way it is the same schema.ts.
 */
import * as schema from './schema.js';

/** schema.ts's exports. */
export function schemas(): typeof schema {
  return schema;
}
