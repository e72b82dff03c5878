import test from 'node:test';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const read = (rel) => readFileSync(new URL(rel, import.meta.url), 'utf8');
const pkg = JSON.parse(read('../package.json'));

test('the source stays within ES2017 syntax', () => {
  // Code only: whole-line comments (the only kind the file may have) are dropped first.
  const src = read('../src/meta-capi.js')
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l))
    .join('\n');
  assert.match(src, /function newEventId\(\)/, 'the code is still there');
  const forbidden = [
    [/\?\./, 'optional chaining ?.'],
    [/\?\?/, 'nullish coalescing ??'],
    [/\bclass\s/, 'classes (and so class fields)'],
    [/\.\.\./, 'spread / rest (object spread is ES2018)'],
    [/`/, 'template literals'],
    [/catch\s*\{/, 'optional catch binding (ES2019)'],
    [/\bfor\s+await\b/, 'for await (ES2018)'],
    [/\(\?<[=!]?/, 'regex lookbehind / named groups (ES2018)'],
    [/\/[a-z]*s[a-z]*\.test\(/, 'regex s flag (ES2018)'],
    [/\b\d+n\b/, 'BigInt literals'],
    [/\d_\d/, 'numeric separators'],
    [/\b(?:let|const)\s/, 'let/const (allowed by ES2017, but this file sticks to var)'],
    [/=>/, 'arrow functions (allowed by ES2017, but this file sticks to function)'],
  ];
  for (const [re, what] of forbidden) {
    assert.doesNotMatch(src, re, `src/meta-capi.js uses ${what}`);
    assert.doesNotMatch(read('../dist/meta-capi.js').replace(/^.*\n/, ''), re, `dist/meta-capi.js uses ${what}`);
  }
});

test('dist: one-line banner with name and version, no other comments, small', () => {
  const js = read('../dist/meta-capi.js');
  const lines = js.split('\n');
  assert.equal(lines[0], `/*! ${pkg.name} v${pkg.version} | CapiMiddleware: Meta Pixel + Conversions API event ID sharing | MIT */`);
  assert.ok(lines.slice(1).every((l) => !/^\s*(\/\/|\/\*|\*)/.test(l)), 'comments stripped');
  // What a browser downloads is the compressed file: keep it under 5.5 KB gzipped (and the raw file under 16 KB). It was
  // 4 KB until identity on real sites (issue 15: the cookie domain found as the Pixel finds it, duplicate cookies,
  // _fbi, cached pages, the in-app browsers' click ID) took it from 3.9 to 5.2 KB.
  assert.ok(Buffer.byteLength(js) < 16384, `dist/meta-capi.js is ${Buffer.byteLength(js)} bytes`);
  assert.ok(gzipSync(js).length < 5632, `dist/meta-capi.js is ${gzipSync(js).length} bytes gzipped`);
  assert.ok(js.endsWith('})(typeof window !== \'undefined\' ? window : null);\n'));
  const mjs = read('../dist/meta-capi.mjs');
  assert.ok(mjs.startsWith(`${lines[0]}\nvar metaCapi = (function (win) {`));
  assert.ok(mjs.endsWith('\nexport default metaCapi;\n'));
});

test('the build is deterministic and works from any working directory', () => {
  const script = fileURLToPath(new URL('../build.mjs', import.meta.url));
  const before = [read('../dist/meta-capi.js'), read('../dist/meta-capi.mjs')];
  execFileSync(process.execPath, [script], { cwd: tmpdir(), stdio: 'pipe' });
  assert.deepEqual([read('../dist/meta-capi.js'), read('../dist/meta-capi.mjs')], before);
});
