// `npm run bench -- face-passive`: what the passive liveness models (MiniFASNet pair) say about
// GENUINE faces, as the camera page sends them (the photo scaled to 480x480 on a 640x480 black
// frame, JPEG q90: the browser tests' fake-camera recipe) and as the bare 250x250 photo, over every
// 8th image of the LFW dev split. No spoof data exists here, so this calibrates false refusals only.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { listIdentityImages } from '../src/face/eval/evaluate-all.ts';
import { createFaceEngine } from '../src/face/index.ts';
import { faceDataDir, modelsDir } from '../test/support/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const imagesDir = path.join(faceDataDir, 'images');
const engine = await createFaceEngine({ modelsDir, workers: 2, threadsPerWorker: 1 });
const images = (await listIdentityImages(imagesDir)).filter((_, i) => i % 8 === 0);
const scores: Record<'camera' | 'photo', number[]> = { camera: [], photo: [] };
const refused: Record<string, number> = {};
let next = 0;
async function work() {
  while (next < images.length) {
    const bytes = await readFile(path.join(imagesDir, images[next++]!.file));
    const camera = await sharp(bytes).resize(480, 480).extend({ left: 80, right: 80, background: { r: 0, g: 0, b: 0 } }).jpeg({ quality: 90 }).toBuffer();
    for (const [kind, picture] of [['camera', camera], ['photo', bytes]] as const) {
      try {
        scores[kind].push((await engine.analyze(picture, { requireFrontal: false, allowOtherFaces: true })).passiveLiveness);
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'error';
        refused[code] = (refused[code] ?? 0) + 1;
      }
    }
  }
}
await Promise.all([work(), work()]);
await engine.close();

const at = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const summary = Object.fromEntries(
  Object.entries(scores).map(([kind, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const below = (t: number) => values.filter((v) => v < t).length / values.length;
    return [kind, { n: values.length, p5: at(sorted, 0.05), p10: at(sorted, 0.1), median: at(sorted, 0.5), p95: at(sorted, 0.95), below05: below(0.5), below02: below(0.2) }];
  }),
);
console.log('| input | n | 5th pct | 10th pct | median | below 0.5 | below 0.2 |\n|---|---:|---:|---:|---:|---:|---:|');
for (const [kind, s] of Object.entries(summary)) {
  console.log(`| ${kind} | ${s.n} | ${s.p5.toFixed(2)} | ${s.p10.toFixed(2)} | ${s.median.toFixed(2)} | ${(s.below05 * 100).toFixed(1)} % | ${(s.below02 * 100).toFixed(1)} % |`);
}
console.log(`refused: ${JSON.stringify(refused)}`);
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'face-passive.json'), `${JSON.stringify({ summary, refused }, null, 2)}\n`);
