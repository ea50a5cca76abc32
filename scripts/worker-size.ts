/**
 * The size of a Worker bundle written by `wrangler deploy --dry-run --outdir <dir>`, counted as
 * Cloudflare counts it: every module gzipped together (source maps, wrangler's README and the
 * esbuild metafile are not uploaded as code). `npm run build:worker` prints it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** This project's aim, to keep cold starts short. */
export const GZIP_AIM_KIB = 1024;
/** The Workers Free plan's limit on the compressed upload (Paid: 10 MiB). */
export const GZIP_FREE_LIMIT_KIB = 3 * 1024;

const NOT_CODE = /(\.map|^README\.md|^bundle-meta\.json)$/;

export function workerBundleSize(dir: string): { files: string[]; kib: number; gzipKib: number } {
  const files = readdirSync(dir)
    .filter((f) => !NOT_CODE.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`no bundle in ${dir}: run wrangler deploy --dry-run --outdir ${dir} first`);
  const all = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  return { files, kib: all.byteLength / 1024, gzipKib: gzipSync(all).byteLength / 1024 };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const dir = process.argv[2] ?? 'dist/worker';
  const size = workerBundleSize(dir);
  const verdict =
    size.gzipKib > GZIP_FREE_LIMIT_KIB ? `OVER the Free plan's ${GZIP_FREE_LIMIT_KIB} KiB limit` : size.gzipKib > GZIP_AIM_KIB ? `over the ${GZIP_AIM_KIB} KiB aim` : `within the ${GZIP_AIM_KIB} KiB aim`;
  console.log(`worker bundle ${dir}/{${size.files.join(',')}}: ${size.kib.toFixed(1)} KiB, gzip ${size.gzipKib.toFixed(1)} KiB (${verdict})`);
  if (size.gzipKib > GZIP_FREE_LIMIT_KIB) process.exitCode = 1;
}
