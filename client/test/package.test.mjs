// The npm package as `npm pack` makes it, and the one version it shares with the NuGet package.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, mkdirSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = fileURLToPath(new URL('..', import.meta.url));
const read = (rel) => readFileSync(join(clientDir, rel), 'utf8');
const pkg = JSON.parse(read('package.json'));
const propsVersion = read('../Directory.Build.props').match(/<Version>\s*([^<\s]+)\s*<\/Version>/)[1];

test('package.json has the version of Directory.Build.props, and the build refuses any other', () => {
  assert.equal(pkg.version, propsVersion);
  assert.ok(read('dist/meta-capi.js').startsWith(`/*! capimiddleware-snippet v${propsVersion} |`));

  const repo = mkdtempSync(join(tmpdir(), 'capi-version-'));
  try {
    mkdirSync(join(repo, 'client', 'src'), { recursive: true });
    for (const f of ['build.mjs', 'package.json', 'src/meta-capi.js', 'src/meta-capi.d.ts']) cpSync(join(clientDir, f), join(repo, 'client', f));
    const build = (...args) => spawnSync(process.execPath, [join(repo, 'client', 'build.mjs'), ...args], { encoding: 'utf8' });
    const props = (v) => writeFileSync(join(repo, 'Directory.Build.props'), `<Project><PropertyGroup><Version>${v}</Version></PropertyGroup></Project>`);

    props(pkg.version);
    assert.equal(build().status, 0);
    const other = build(`--version=${pkg.version}-other`);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /client\/package\.json has version .* \(passed by the \.NET build\)/);

    props('9.9.9');
    const stale = build();
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /has version \S+ but the NuGet package has 9\.9\.9 \(<Version> in Directory\.Build\.props\)/);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('npm pack ships the builds, their types, the README and the LICENSE, and nothing else', () => {
  const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: clientDir, encoding: 'utf8' }));
  const files = report.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'LICENSE', 'README.md', 'dist/meta-capi.d.mts', 'dist/meta-capi.d.ts', 'dist/meta-capi.js', 'dist/meta-capi.mjs',
    'package.json', 'src/meta-capi.d.ts',
  ]);
  assert.equal(report.version, propsVersion);

  // Every path package.json points at is in the package.
  const targets = [pkg.main, pkg.module, pkg.types];
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk));
  walk(pkg.exports);
  for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, '')), `${t} is not in the package`);

  assert.equal(read('LICENSE'), read('../LICENSE'), 'client/LICENSE is a copy of the repository\'s');
});

test('the exports resolve: import gets the module and its API, require the classic script', async () => {
  const { default: api } = await import('capimiddleware-snippet');
  assert.equal(api.version, pkg.version);
  assert.match(api.newEventId(), /^[0-9a-f]{32}$/);
  assert.deepEqual(api.eventHeaders('e-1'), { 'X-Meta-Event-Id': 'e-1' });

  const require = createRequire(import.meta.url);
  assert.equal(require.resolve('capimiddleware-snippet'), join(clientDir, 'dist', 'meta-capi.js'));
  assert.deepEqual(require('capimiddleware-snippet'), {}, 'the classic script exports nothing; it defines window.metaCapi');
});

test('the module types are the source types; the classic types drop the default export', () => {
  const source = read('src/meta-capi.d.ts');
  assert.equal(read('dist/meta-capi.d.mts'), source);
  const classic = read('dist/meta-capi.d.ts');
  assert.doesNotMatch(classic, /export default/);
  assert.ok(classic.startsWith(source.slice(0, source.indexOf('declare const metaCapi'))));
});
