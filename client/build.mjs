// Builds client/dist/meta-capi.js (classic IIFE for <script>) and client/dist/meta-capi.mjs
// (ES module, default export = the API object) from client/src/meta-capi.js.
// No dependencies, deterministic output, runs from any working directory.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const root = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`meta-capi build: ${message}`);
  process.exit(1);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (!/^[0-9A-Za-z.+-]+$/.test(pkg.version)) fail(`bad version in package.json: ${pkg.version}`);
const source = readFileSync(join(root, 'src', 'meta-capi.js'), 'utf8').replace(/\r\n?/g, '\n');

// Strip whole-line comments, blank lines and indentation; nothing else is touched. This is safe
// because no string or regex can span lines without template literals or line continuations.
if (source.includes('`')) fail('template literals are not allowed in src/meta-capi.js');
if (/\\\n/.test(source)) fail('line continuations are not allowed in src/meta-capi.js');
const lines = [];
let inBlock = false;
for (const line of source.split('\n')) {
  const t = line.trim();
  if (inBlock) {
    if (t.includes('*/')) {
      if (!t.endsWith('*/')) fail(`code after a block comment: ${line}`);
      inBlock = false;
    }
    continue;
  }
  if (t.startsWith('/*')) {
    if (!t.endsWith('*/') || t === '/*') inBlock = true;
    continue;
  }
  if (t === '' || t.startsWith('//')) continue;
  lines.push(t);
}
let code = lines.join('\n');

const versionLine = /var VERSION = 'dev';/g;
if ((code.match(versionLine) || []).length !== 1) fail(`expected exactly one "var VERSION = 'dev';"`);
code = code.replace(versionLine, `var VERSION = '${pkg.version}';`);

if (!code.startsWith("(function (win) {\n'use strict';") || !code.endsWith('})(typeof window !== \'undefined\' ? window : null);')) {
  fail('src/meta-capi.js must be a single IIFE: (function (win) { ... })(typeof window !== \'undefined\' ? window : null);');
}

const banner = `/*! ${pkg.name} v${pkg.version} | CapiMiddleware: Meta Pixel + Conversions API event ID sharing | MIT */`;
const classic = `${banner}\n${code}\n`;
const esm = `${banner}\nvar metaCapi = ${code}\nexport default metaCapi;\n`;

try {
  new Script(classic, { filename: 'meta-capi.js' });
} catch (e) {
  fail(`dist/meta-capi.js does not parse: ${e.message}`);
}

const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'meta-capi.js'), classic);
writeFileSync(join(dist, 'meta-capi.mjs'), esm);
console.log(`meta-capi build: dist/meta-capi.js ${Buffer.byteLength(classic)} bytes, dist/meta-capi.mjs ${Buffer.byteLength(esm)} bytes (v${pkg.version})`);
