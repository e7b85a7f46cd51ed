/**
 * DOC: Platform knobs from the command line — dedicated flags and `--set KNOB=VALUE`
 *
 * `replay` and `validate` take platform knobs as flags (`--vram 8G`, `--kernel 6.16`, ...) and as
 * `--set knob=value`. They become one settings object, parsed by the trace's own rules
 * (parsePlatformSettings). A knob given twice is an error naming both places, never a silent
 * winner (`--set vram=4G` with `--vram 8G`). A size knob needs a unit, as the size flags do
 * (`--set vram=16`: "did you mean 16G?").
 */

import { UsageError } from './errors.js';
import { sizeUnitProblem } from './options.js';

/** Size knobs (and their aliases) and the unit a hint suggests; `svm_notifier_size` is in MiB by definition. */
export const SIZE_KNOBS: Readonly<Record<string, 'G' | 'M'>> = { vram: 'G', vram_capacity: 'G', notifier_size: 'M' };

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
export function platformSettings(flags: readonly [string, string, string][], set: readonly string[]): Record<string, string> {
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
  return settings;
}
