/**
 * The replay driver (src/replay/replay.ts): platform precedence and the heap guard's error.
 */
import { describe, expect, test } from 'vitest';
import { describeFailure } from '../../src/cli/errors.js';
import { defaultPlatform } from '../../src/core/platform.js';
import { ModelMemoryError } from '../../src/replay/errors.js';
import { buildPlatform } from '../../src/replay/replay.js';

describe('replay driver', () => {
  test('buildPlatform: defaults of the kernel ← trace header ← command line; the kernel chooses the defaults', () => {
    expect(buildPlatform({}, {})).toEqual(defaultPlatform('6.18'));
    const p = buildPlatform({ kernel: '6.16', vramBytes: 1n << 30n, hz: 100 }, { vramBytes: 2n << 30n });
    expect(p).toEqual({ ...defaultPlatform('6.16'), vramBytes: 2n << 30n, hz: 100, kernel: '6.16' });
    // the command line's kernel wins, and its defaults apply under the trace's own knobs
    expect(buildPlatform({ kernel: '6.16', hz: 100 }, { kernel: '6.18.y' })).toEqual({
      ...defaultPlatform('6.18.y'),
      hz: 100,
      kernel: '6.18.y',
    });
  });

  test('a model that outgrows the heap (ModelMemoryError) is bad input, exit 2, not an internal error', () => {
    expect(describeFailure(new ModelMemoryError('the model state outgrew 900 MB of the 1000 MB heap'))).toEqual({
      code: 2,
      message: 'svmsim: the model state outgrew 900 MB of the 1000 MB heap',
    });
  });
});
