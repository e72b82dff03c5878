// Builds client/dist/meta-capi.js (classic IIFE for <script>) and client/dist/meta-capi.mjs
// (ES module, default export = the API object) from client/src/meta-capi.js, and their types from src/meta-capi.d.ts.
// No dependencies, deterministic output, runs from any working directory.
// The version comes from one place, <Version> in ../Directory.Build.props (the NuGet package's): the build fails when
// package.json says otherwise, and when the .NET build passes another one (--version=, e.g. dotnet pack -p:Version=).
// Files are written only when their content changes, so the .NET build can run this every time without recompiling.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
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

const propsPath = join(root, '..', 'Directory.Build.props');
const propsVersion = (readFileSync(propsPath, 'utf8').match(/<Version>\s*([^<\s]+)\s*<\/Version>/) || [])[1];
if (!propsVersion) fail(`no <Version> in ${propsPath}`);
const versionArg = process.argv.slice(2).find((a) => a.startsWith('--version='));
const dotnetVersion = versionArg ? versionArg.slice('--version='.length) : propsVersion;
if (pkg.version !== dotnetVersion) {
  fail(`client/package.json has version ${pkg.version} but the NuGet package has ${dotnetVersion}` +
    `${versionArg ? ' (passed by the .NET build)' : ' (<Version> in Directory.Build.props)'}; both packages ship one version: set the same in both`);
}
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
// Types per build, so TypeScript's node16/nodenext resolution sees the module's default export in ES modules
// (meta-capi.d.mts) and, for the classic script, which exports nothing, only the types and window.metaCapi.
const types = readFileSync(join(root, 'src', 'meta-capi.d.ts'), 'utf8').replace(/\r\n?/g, '\n');
const defaultExport = '\ndeclare const metaCapi: MetaCapi;\nexport default metaCapi;\n';
if (!types.endsWith(defaultExport)) fail(`src/meta-capi.d.ts must end with:${defaultExport}`);
const classicTypes = `${types.slice(0, -defaultExport.length)}\n// dist/meta-capi.js exports nothing: it defines window.metaCapi.\nexport {};\n`;

const writeIfChanged = (file, text) => {
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
};
writeIfChanged(join(dist, 'meta-capi.js'), classic);
writeIfChanged(join(dist, 'meta-capi.mjs'), esm);
writeIfChanged(join(dist, 'meta-capi.d.mts'), types);
writeIfChanged(join(dist, 'meta-capi.d.ts'), classicTypes);
console.log(`meta-capi build: dist/meta-capi.js ${Buffer.byteLength(classic)} bytes, dist/meta-capi.mjs ${Buffer.byteLength(esm)} bytes (v${pkg.version})`);
