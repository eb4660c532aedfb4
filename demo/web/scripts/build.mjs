// Builds dist/app.js from src/ with esbuild. With --check it builds in
// memory instead and fails when the committed bundle differs, so the file
// that `go build` embeds is always what the sources produce.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'app.js');
const check = process.argv.includes('--check');

const result = await esbuild.build({
  entryPoints: [path.join(root, 'src', 'main.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  charset: 'utf8',
  outfile,
  write: false,
  logLevel: 'warning',
});

const built = result.outputFiles[0].contents;

if (check) {
  let committed;
  try {
    committed = fs.readFileSync(outfile);
  } catch (err) {
    console.error(`dist/app.js is missing (${err.code}): run \`npm run build\` and commit it`);
    process.exit(1);
  }
  if (!Buffer.from(built).equals(committed)) {
    console.error('dist/app.js does not match a fresh build of src/: run `npm ci && npm run build` and commit dist/app.js');
    process.exit(1);
  }
  console.log(`dist/app.js matches a fresh build (${built.length} bytes)`);
} else {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(outfile, built);
  console.log(`wrote dist/app.js (${built.length} bytes)`);
}
