/**
 * DOC: Platform knobs from the command line — dedicated flags and `--set KNOB=VALUE`
 *
 * `replay` and `validate` take platform knobs as flags (`--vram 8G`, `--kernel 6.16`, ...) and as
 * `--set knob=value`. They become one settings object, parsed by the trace's own rules
 * (parsePlatformSettings). A knob given twice is an error naming both places, never a silent
 * winner (`--set vram=4G` with `--vram 8G`). A size knob needs a unit, as the size flags do
 * (`--set vram=16`: "did you mean 16G?").
 */

import type { Platform } from '../core/platform.js';
import { TraceInputError } from '../trace/errors.js';
import { UsageError } from './errors.js';
import { sizeUnitProblem } from './options.js';

/** Size knobs (and their aliases) and the unit a hint suggests; `svm_notifier_size` is in MiB by definition. */
const SIZE_KNOBS: Readonly<Record<string, 'G' | 'M'>> = { vram: 'G', vram_capacity: 'G', notifier_size: 'M' };

/** Refuse a size knob's value without a unit (`what` names where it was given). */
export function checkKnobUnit(knob: string, value: string, what: string): void {
  const unit = Object.hasOwn(SIZE_KNOBS, knob) ? SIZE_KNOBS[knob] : undefined;
  const p = unit === undefined ? undefined : sizeUnitProblem(value, unit);
  if (p !== undefined) throw new UsageError(`${what}: ${p}`);
}

/** Split `knob=value` (as --set takes it). */
export function knobValue(kv: string, expected: string): [string, string] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set ${kv}: expected ${expected}`);
  return [kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()];
}

/**
 * The settings of dedicated flags ([knob, value, how it was given]) and of `--set` options, in
 * that order. A knob given twice is refused, naming both.
 */
function platformSettings(
  flags: readonly [string, string, string][],
  set: readonly string[],
): { settings: Record<string, string>; from: Record<string, string> } {
  const settings: Record<string, string> = Object.create(null) as Record<string, string>;
  const from: Record<string, string> = Object.create(null) as Record<string, string>;
  const put = (k: string, v: string, flag: string) => {
    if (Object.hasOwn(settings, k)) throw new UsageError(`${flag}: platform knob "${k}" is already given (${from[k]})`);
    settings[k] = v;
    from[k] = flag;
  };
  for (const [k, v, flag] of flags) put(k, v, flag);
  for (const kv of set) {
    const [k, v] = knobValue(kv, 'knob=value');
    checkKnobUnit(k, v, `--set ${kv}`);
    put(k, v, `--set ${kv}`);
  }
  return { settings, from };
}

/** What parses platform settings by the trace's rules (src/trace: loaded when a command runs). */
export interface PlatformRules {
  parsePlatformSettings: (s: Record<string, string>, where: string) => Partial<Platform>;
  PLATFORM_ALIASES: Readonly<Record<string, string>>;
}

/**
 * The platform of the command line's flags and `--set` options, parsed by the trace's rules; a
 * bad value is reported with the option that gave it (`--vram 1.5K: field "vram": expected ...`).
 */
export function cliPlatformOf(
  flags: readonly [string, string, string][],
  set: readonly string[],
  rules: PlatformRules,
): Partial<Platform> {
  const { settings, from } = platformSettings(flags, set);
  try {
    return rules.parsePlatformSettings(settings, 'command line');
  } catch (e) {
    const field = e instanceof TraceInputError ? e.field : undefined;
    const given =
      field === undefined
        ? undefined
        : Object.keys(from).find((k) => k === field || rules.PLATFORM_ALIASES[k] === field);
    if (given === undefined) throw e;
    throw new UsageError(`${from[given]}: field "${field}": ${(e as TraceInputError).detail}`);
  }
}
