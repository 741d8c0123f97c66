// Builds the console into dist/: one minified ES module and one stylesheet
// with content hashes in their names (the API lets browsers cache assets
// for an hour, never index.html), and index.html pointing at them.
import * as esbuild from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outdir: 'dist/assets',
  entryNames: '[name]-[hash]',
  legalComments: 'eof',
  // uPlot's notice (MIT), which its minified form would otherwise lose.
  banner: { js: '/*! uPlot v1.6.32 | (c) Leon Sorokin | MIT License */' },
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs);
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error('build: expected one .js and one .css output, got ' + outputs.join(', '));
const html = (await readFile(path.join(root, 'src/index.html'), 'utf8'))
  .replace('%APP_JS%', 'assets/' + path.basename(js))
  .replace('%APP_CSS%', 'assets/' + path.basename(css));
await writeFile(path.join(dist, 'index.html'), html);

for (const [f, o] of Object.entries(result.metafile.outputs)) {
  console.log(`${path.relative(root, f).padEnd(34)} ${(o.bytes / 1024).toFixed(1).padStart(6)} KiB`);
}
