/**
 * DOC: `svmsim test` reports — a test-runner summary and JUnit XML
 *
 * One line per trace (PASS / FAIL / ERROR, checks, time); under each failure the expectation,
 * the actual value and the event that last changed it. `junitReport` writes the same as JUnit
 * XML (one <testsuite>, one <testcase> per trace, <failure> or <error> with the details) for CI
 * dashboards.
 */

import { Chalk } from 'chalk';
import type { ExpectFailure } from './expect.js';

export interface TraceTestResult {
  file: string;
  /** none: the trace declares no expectations (it replayed without error). crash: internal error. */
  status: 'pass' | 'fail' | 'error' | 'none' | 'crash';
  ms: number;
  checks: number;
  failures: ExpectFailure[];
  error?: string;
  expectLine?: number;
  /** --update: values written into the file. */
  updated?: number;
}

/** One failure as text lines. */
function failureLines(r: TraceTestResult, f: ExpectFailure): string[] {
  const where =
    f.lastChange === null
      ? 'no event changed it'
      : `last changed by event #${f.lastChange.seq} (${r.file}:${f.lastChange.line} ${f.lastChange.op})`;
  return [
    `expect.${f.path.join('.')}${r.expectLine ? ` (${r.file}:${r.expectLine})` : ''}`,
    `  expected: ${f.expected}`,
    `  actual:   ${f.actual}`,
    `  ${where}`,
  ];
}

export function testReport(results: TraceTestResult[], ms: number, color: 0 | 1 | 2 | 3 = 0): string {
  const c = new Chalk({ level: color });
  const out: string[] = [];
  const tag = {
    pass: c.green('PASS '),
    fail: c.red('FAIL '),
    error: c.red('ERROR'),
    none: c.dim('NONE '),
    crash: c.red('CRASH'),
  };
  for (const r of results) {
    const what =
      r.status === 'none'
        ? 'no expectations'
        : r.status === 'error' || r.status === 'crash'
          ? 'bad input'
          : `${r.checks} check${r.checks === 1 ? '' : 's'}${r.failures.length ? `, ${r.failures.length} failed` : ''}`;
    out.push(
      `${tag[r.status]} ${r.file}  ${c.dim(`${what}, ${r.ms} ms`)}${r.updated ? c.yellow(`  updated ${r.updated} value${r.updated === 1 ? '' : 's'}`) : ''}`,
    );
    for (const f of r.failures) for (const l of failureLines(r, f)) out.push('      ' + l);
    if (r.error) out.push('      ' + r.error.replace(/\n/g, '\n      '));
  }
  const count = (s: TraceTestResult['status']) => results.filter((r) => r.status === s).length;
  const parts = [`${count('pass')} passed`, `${count('fail')} failed`];
  if (count('error') + count('crash')) parts.push(`${count('error') + count('crash')} bad input`);
  if (count('none')) parts.push(`${count('none')} without expectations`);
  out.push('', `${parts.join(', ')} (${results.length} trace${results.length === 1 ? '' : 's'}) in ${ms} ms`);
  return out.join('\n') + '\n';
}

const xml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // characters XML 1.0 cannot carry
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are what is removed
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML: one <testsuite>, one <testcase> per trace. */
export function junitReport(results: TraceTestResult[], ms: number): string {
  const failures = results.filter((r) => r.status === 'fail').length;
  const errors = results.filter((r) => r.status === 'error' || r.status === 'crash').length;
  const skipped = results.filter((r) => r.status === 'none').length;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="svmsim test" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(ms)}">`,
    `  <testsuite name="svmsim test" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(ms)}">`,
  ];
  for (const r of results) {
    const dir = r.file.includes('/') ? r.file.slice(0, r.file.lastIndexOf('/')) : '.';
    const head = `    <testcase classname="${xml(dir.replace(/\//g, '.'))}" name="${xml(r.file)}" file="${xml(r.file)}" time="${secs(r.ms)}"`;
    if (r.status === 'pass') out.push(`${head}/>`);
    else if (r.status === 'none') out.push(`${head}>`, '      <skipped message="no expectations"/>', '    </testcase>');
    else if (r.status === 'fail') {
      const msg = `${r.failures.length} expectation${r.failures.length === 1 ? '' : 's'} failed: ${r.failures.map((f) => `expect.${f.path.join('.')}`).join(', ')}`;
      out.push(
        `${head}>`,
        `      <failure message="${xml(msg)}" type="expectation">${xml(r.failures.flatMap((f) => failureLines(r, f)).join('\n'))}</failure>`,
        '    </testcase>',
      );
    } else
      out.push(
        `${head}>`,
        `      <error message="${xml((r.error ?? '').split('\n')[0])}" type="${r.status === 'crash' ? 'internal' : 'bad input'}">${xml(r.error ?? '')}</error>`,
        '    </testcase>',
      );
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}
