/**
 * Import boundaries of src/**, read from the import statements themselves (static imports,
 * `import type`, re-exports and dynamic `import()`, as TypeScript's own preProcessFile finds them).
 *
 * The layers point one way: cli → replay → report / trace → core.
 * - src/core is the model: it imports nothing from any other part of src/, and no package at all
 *   (no I/O: not even node:*); its text uses no clock, randomness, console or process.
 * - src/report and src/trace import nothing from src/cli or src/replay; src/replay (the replay
 *   driver) nothing from src/cli; only the drivers (src/cli, src/bench) import src/cli.
 * - the generic kernel layers (src/core/mm, drm-gpusvm, drm-pagemap) import nothing from the Xe
 *   driver (src/core/xe-svm): the kernel calls into the driver through ops tables.
 * - chalk and cli-table3 (terminal wording) only in src/report.
 * - the zod schemas, zod and the decompressors: no value import outside the modules that load
 *   them at first use (scripts/build.mjs LAZY).
 *
 * A failing rule names the importing file, its line, and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

interface Import {
  /** Importing file, relative to the repository (src/core/mm/fault.ts). */
  file: string;
  line: number;
  /** The specifier as written ('../xe-svm/vm.js', 'chalk'). */
  spec: string;
  /** For a relative specifier, the imported path relative to the repository (src/core/xe-svm/vm.js). */
  target?: string;
}

/** Every import of one file's text. */
function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((i) => {
    const line = text.slice(0, i.pos).split('\n').length;
    const target = i.fileName.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(file), i.fileName))
      : undefined;
    return { file, line, spec: i.fileName, target };
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mts|js|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
    )
    .sort();
}

interface Rule {
  name: string;
  /** Files the rule applies to (path prefix, relative to the repository). */
  from: string[];
  /** Forbidden: relative imports into these prefixes, or these package names ('*': any package). */
  to?: string[];
  packages?: string[] | '*';
  /** Files exempt from the rule (prefixes). */
  except?: string[];
}

const under = (path: string, prefixes: string[]) =>
  prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : p + '/'));

const RULES: Rule[] = [
  {
    name: 'src/core is the model: it imports no other part of src/',
    from: ['src/core'],
    to: [
      'src/trace',
      'src/report',
      'src/cli',
      'src/replay',
      'src/gen',
      'src/import',
      'src/validate',
      'src/capture',
      'src/bench',
    ],
  },
  { name: 'src/core imports no package (no I/O, no node:*)', from: ['src/core'], packages: '*' },
  {
    name: 'src/report and src/trace import nothing from src/cli or src/replay',
    from: ['src/report', 'src/trace'],
    to: ['src/cli', 'src/replay'],
  },
  {
    name: 'src/replay (the replay driver) imports nothing from src/cli',
    from: ['src/replay'],
    to: ['src/cli', 'src/bench'],
  },
  {
    name: 'only the drivers (src/cli, src/bench) import src/cli',
    from: ['src'],
    to: ['src/cli'],
    except: ['src/cli', 'src/bench'],
  },
  {
    name: 'the generic layers (mm, drm-gpusvm, drm-pagemap) import nothing from the Xe driver (src/core/xe-svm)',
    from: ['src/core/mm', 'src/core/drm-gpusvm', 'src/core/drm-pagemap'],
    to: ['src/core/xe-svm'],
  },
  {
    name: 'chalk and cli-table3 only in src/report',
    from: ['src'],
    packages: ['chalk', 'cli-table3'],
    except: ['src/report'],
  },
];

/**
 * Accepted violations, each "importing file -> import specifier": none. The generic layers reach Xe
 * only through the kernel's ops tables (drm_gpusvm_ops, drm_pagemap_devmem_ops, drm_pagemap_ops,
 * dev_pagemap_ops), which removed the last two. An entry that no longer occurs fails the test.
 */
const ALLOWED: string[] = [];

/** Violations of `rules` by `imports`, as "file:line imports 'spec' (rule)". */
function violations(imports: Import[], rules: Rule[], allowed: string[] = []): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const i of imports) {
    for (const r of rules) {
      if (!under(i.file, r.from) || (r.except !== undefined && under(i.file, r.except))) continue;
      const pkg = i.spec.startsWith('.')
        ? undefined
        : i.spec.startsWith('@')
          ? i.spec.split('/').slice(0, 2).join('/')
          : i.spec.split('/')[0];
      const pkgHit = pkg !== undefined && (r.packages === '*' || r.packages?.includes(pkg) === true);
      const hit = (i.target !== undefined && r.to !== undefined && under(i.target, r.to)) || pkgHit;
      if (!hit) continue;
      const key = `${i.file} -> ${i.spec}`;
      if (allowed.includes(key)) continue;
      out.push({
        key,
        message: `${i.file}:${i.line} imports '${i.spec}'${i.target !== undefined ? ` (${i.target})` : ''}: breaks "${r.name}"`,
      });
    }
  }
  return out;
}

const files = sourceFiles(join(ROOT, 'src'));
const imports = files.flatMap((f) => importsOf(relative(ROOT, f).split('\\').join('/'), readFileSync(f, 'utf8')));

describe('architecture: import boundaries of src/', () => {
  test('the import parser sees the source (sanity: files and imports found)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.some((i) => i.file === 'src/cli/main.ts' && i.target?.startsWith('src/replay/') === true)).toBe(
      true,
    );
  });

  for (const r of RULES) {
    test(r.name, () => {
      expect(violations(imports, [r], ALLOWED).map((v) => v.message)).toEqual([]);
    });
  }

  test('src/core uses no clock, randomness, console or process (deterministic, no I/O)', () => {
    const bad = files
      .filter((f) => relative(ROOT, f).split('\\').join('/').startsWith('src/core/'))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((l, i) =>
            /Date\.now|performance\.now|Math\.random|console\.|process\.|setTimeout|setInterval/.test(l)
              ? [`${relative(ROOT, f)}:${i + 1}: ${l.trim()}`]
              : [],
          ),
      );
    expect(bad).toEqual([]);
  });

  test('the zod schemas, zod and the decompressors are reached at their first use only (scripts/build.mjs LAZY): no value import of them elsewhere', () => {
    // type-only imports are erased; a value import would load them at start-up again
    const LAZY: { what: RegExp; only: string[] }[] = [
      { what: /^\.{1,2}\/(trace\/)?schema\.js$/, only: ['src/trace/schemas.ts', 'src/trace/json-schema.ts'] },
      { what: /^zod$/, only: ['src/trace/schema.ts', 'src/trace/json-schema.ts', 'src/trace/result.ts'] },
      { what: /^\.{1,2}\/(trace\/)?decompress\.js$/, only: ['src/trace/decompressor.ts'] },
    ];
    const bad = files.flatMap((f) => {
      const file = relative(ROOT, f).split('\\').join('/');
      const text = readFileSync(f, 'utf8');
      return [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gms)].flatMap((m) =>
        LAZY.some((l) => l.what.test(m[1]) && !l.only.includes(file)) ? [`${file}: ${m[0].replace(/\s+/g, ' ')}`] : [],
      );
    });
    expect(bad).toEqual([]);
  });

  test('the allowlist only holds violations that still occur (remove an entry once its import is gone)', () => {
    const actual = new Set(violations(imports, RULES).map((v) => v.key));
    expect(ALLOWED.filter((a) => !actual.has(a))).toEqual([]);
  });

  test('the checker catches each kind of import (static, type-only, re-export, dynamic, package) and names file, line and import', () => {
    const text = [
      "import { a } from '../../trace/index.js';",
      "import type { B } from '../xe-svm/vm.js';",
      "export { c } from '../../cli/errors.js';",
      'const m = await import(',
      "  '../../report/reporter.js');",
      "import chalk from 'chalk';",
      "import { x } from './ok.js';",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    const found = violations(importsOf('src/core/mm/fake.ts', text), RULES).map((v) => v.message);
    const rule = (start: string) => RULES.find((r) => r.name.startsWith(start))!.name;
    const [core, pkgs, cli, xe, chalk] = [
      rule('src/core is'),
      rule('src/core imports no'),
      rule('only the drivers'),
      rule('the generic'),
      rule('chalk'),
    ];
    expect(found).toEqual([
      `src/core/mm/fake.ts:1 imports '../../trace/index.js' (src/trace/index.js): breaks "${core}"`,
      `src/core/mm/fake.ts:2 imports '../xe-svm/vm.js' (src/core/xe-svm/vm.js): breaks "${xe}"`,
      `src/core/mm/fake.ts:3 imports '../../cli/errors.js' (src/cli/errors.js): breaks "${core}"`,
      `src/core/mm/fake.ts:3 imports '../../cli/errors.js' (src/cli/errors.js): breaks "${cli}"`,
      `src/core/mm/fake.ts:5 imports '../../report/reporter.js' (src/report/reporter.js): breaks "${core}"`,
      `src/core/mm/fake.ts:6 imports 'chalk': breaks "${pkgs}"`,
      `src/core/mm/fake.ts:6 imports 'chalk': breaks "${chalk}"`,
      `src/core/mm/fake.ts:8 imports 'node:fs': breaks "${pkgs}"`,
    ]);
    // allowed and exempt imports pass
    expect(violations(importsOf('src/report/x.ts', "import Table from 'cli-table3';"), RULES)).toEqual([]);
    expect(
      violations(importsOf('src/core/mm/fake.ts', "import type { B } from '../xe-svm/vm.js';"), RULES, [
        'src/core/mm/fake.ts -> ../xe-svm/vm.js',
      ]),
    ).toEqual([]);
  });
});
