// The package installs from its tarball (run by `npm test`, last step; alone: `npm run pack-check`).
// `npm pack` (which builds dist/ through `prepare`), check the file list, install the tarball
// globally into a temporary prefix without the optional dependency (better-sqlite3, the native
// addon of `svmsim import --from nsys-sqlite`), then run the installed command from outside the
// clone: --version, one replay, one HTML report. Dependencies come from the npm cache first
// (--prefer-offline), the registry otherwise.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'svmsim-pack-'));
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const fail = (msg) => {
  process.stderr.write(`pack-check: ${msg} (files left in ${dir})\n`);
  process.exit(1);
};

// 1. The tarball: what `files` lets in.
const [packed] = JSON.parse(
  run(npm, ['pack', '--json', '--silent', '--pack-destination', dir], { stdio: ['ignore', 'pipe', 'inherit'] }),
);
const files = packed.files.map((f) => f.path);
for (const need of [
  'package.json',
  'README.md',
  'bin/svmsim.js',
  'dist/svmsim.js',
  'dist/svmsim.js.map',
  'dist/compare-worker.js',
  'traces/01-first-touch-2m.json',
]) {
  if (!files.includes(need)) fail(`${packed.filename} lacks ${need}`);
}
const stray = files.filter((f) => /^(src|test|scripts|bench|node_modules|\.ci)\//.test(f));
if (stray.length > 0)
  fail(`${packed.filename} ships ${stray.length} files that are not for users, e.g. ${stray.slice(0, 3).join(', ')}`);

// 2. Install it globally into a temporary prefix. npm ignores --omit=optional for a global install
// of a tarball (npm/cli#8284) and would compile better-sqlite3 (2 min of CPU): --ignore-scripts
// skips that build (the package itself has no install script), and removing the unbuilt addon
// gives the tree --omit=optional should have given, so the checks below prove it is not needed.
const prefix = join(dir, 'prefix');
try {
  run(
    npm,
    [
      'install',
      '--global',
      '--omit=optional',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      join(dir, packed.filename),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
} catch (e) {
  fail(`npm install of the tarball failed:\n${e.stderr ?? e.message}`);
}
const installed = join(prefix, 'lib', 'node_modules', 'svmsim');
for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
  rmSync(join(installed, 'node_modules', name), { recursive: true, force: true });
}

// 3. Run the installed command from outside the clone.
const bin = join(prefix, 'bin', 'svmsim');
const svmsim = (...args) => {
  try {
    return run(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return fail(`svmsim ${args.join(' ')} exited ${e.status}:\n${e.stderr}`);
  }
};
const version = svmsim('--version').trim();
if (!version.includes(pkg.version))
  fail(`svmsim --version printed ${JSON.stringify(version)}, expected ${pkg.version}`);
const debugfs = svmsim('replay', join(installed, 'traces/01-first-touch-2m.json'), '--format', 'debugfs');
if (!/^svm_pagefault_count: \d+$/m.test(debugfs))
  fail(`svmsim replay --format debugfs printed no svm_pagefault_count:\n${debugfs}`);
const report = join(dir, 'report.html');
svmsim('report', join(installed, 'traces/07-vram-pressure.json'), '-o', report);
if (!readFileSync(report, 'utf8').includes('id="svmsim-data"')) fail(`${report} has no svmsim-data block`);

rmSync(dir, { recursive: true, force: true });
console.log(
  `pack-check: ${packed.filename} (${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB) installs without optional dependencies; --version, replay and report run from the global install`,
);
