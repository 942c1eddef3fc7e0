// Builds the page boxup serve embeds: src/ → ../crates/boxup-web/assets/
// (or the directory given as the first argument, which is how CI checks
// that the committed bundle is exactly what this source builds).
//
// The output is deterministic for a given lockfile: no timestamps, no
// absolute paths, no content hashes in names (the server sends ETags).
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../crates/boxup-web/assets'));

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.ts', 'hash-worker': 'src/hash-worker.ts' },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});
for (const name of await readdir(join(here, 'static'))) {
  await copyFile(join(here, 'static', name), join(out, name));
}
console.log(`built ${out}`);
