// `npm run bench -- face-latency`: what one face verification costs. p50/p95 of one `analyze` on a
// 640x480 JPEG (an LFW photo padded onto a webcam-sized canvas), against bare model inference
// (YuNet + MobileFaceNet run directly on prepared tensors) measured in this same run; the same
// pipeline in-process (no worker) to show the worker's share; a 3-frame liveness check; and
// throughput with 1 and 2 workers.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { alignFace } from '../src/face/align.ts';
import { decodeImage } from '../src/face/decode.ts';
import { detectorInput, planarBgr } from '../src/face/detect.ts';
import { embedderInput } from '../src/face/embed.ts';
import { checkChallenge, createChallenge, createFaceEngine, loadModels } from '../src/face/index.ts';
import { livenessInput } from '../src/face/passive.ts';
import { analyzePicture, detectFaces, PIPELINE_VERSIONS, CURRENT_PIPELINE_VERSION } from '../src/face/pipeline.ts';
import { cropResize } from '../src/face/pixels.ts';
import { createRunners } from '../src/face/runners.ts';
import { modelsDir, faceDataDir as dataDir } from '../test/support/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = Number(process.env.FACE_BENCH_ITERATIONS ?? 150);
const WARMUP = 15;

const lfw = (person: string, index: number) => readFile(path.join(dataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));
const pad = async (photo: Buffer) => sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } })
  .composite([{ input: photo, left: 195, top: 115 }]).jpeg({ quality: 90 }).toBuffer();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
async function measure(fn: () => Promise<unknown>, iterations = ITERATIONS) {
  for (let i = 0; i < WARMUP; i += 1) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), n: iterations };
}
/**
 * Two measurements interleaved (a b b a …), so that load from elsewhere on a shared machine falls on
 * both alike and their ratio stays comparable from run to run.
 */
async function measurePair(a: () => Promise<unknown>, b: () => Promise<unknown>, iterations = ITERATIONS) {
  for (let i = 0; i < WARMUP; i += 1) {
    await a();
    await b();
  }
  const times: [number[], number[]] = [[], []];
  const fns = [a, b];
  for (let i = 0; i < iterations; i += 1) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const start = performance.now();
      await fns[k]!();
      times[k]!.push(performance.now() - start);
    }
  }
  return times.map((t) => {
    t.sort((x, y) => x - y);
    return { p50: percentile(t, 0.5), p95: percentile(t, 0.95), n: iterations };
  }) as [{ p50: number; p95: number; n: number }, { p50: number; p95: number; n: number }];
}
async function throughput(run: () => Promise<unknown>, { concurrency = 4, total = ITERATIONS * 2 } = {}) {
  for (let i = 0; i < WARMUP; i += 1) await run();
  let issued = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < total) {
      issued += 1;
      await run();
    }
  }));
  return total / ((performance.now() - start) / 1000);
}

const loadBefore = loadavg()[0];
const frame = await pad(await lfw('Aaron_Sorkin', 1));
const photo = await lfw('Aaron_Sorkin', 1); // 250x250, as uploaded photos of LFW size
const challengeFrames = await Promise.all([lfw('Jose_Manuel_Durao_Barroso', 3), lfw('Jose_Manuel_Durao_Barroso', 4), lfw('Jose_Manuel_Durao_Barroso', 5)].map(async (p) => pad(await p)));

const models = await loadModels({ dir: modelsDir });
if (!models.available) throw new Error(models.reason);
const cores = availableParallelism();
const threads = Math.max(1, Math.floor(cores / 2));

// Bare inference: the models alone on tensors prepared once, with the thread count each of the
// default engine's two workers uses.
const runners = await createRunners(models.files, { threads });
const decoded = await decodeImage(frame);
const spec = PIPELINE_VERSIONS[CURRENT_PIPELINE_VERSION]!;
// The first detection as the current version runs it (version 4: the frame scaled to 320x240).
const firstSize = spec.detectorSize ?? 640;
const detIn = detectorInput(decoded, { size: firstSize });
const detIn640 = detectorInput(decoded);
const [face] = await detectFaces(decoded, runners);
const embIn = embedderInput(alignFace(decoded, face.landmarks));
const liveIn = runners.livenessScales.map((s) => livenessInput(decoded, face.box, s));
const rows: Array<[string, { p50: number; p95: number; n: number }]> = [];
rows.push(['YuNet 640x480 (bare)', await measure(() => runners.detect(detIn640.tensor, detIn640.width, detIn640.height))]);
if (detIn.width !== detIn640.width) rows.push([`YuNet ${detIn.width}x${detIn.height} (bare; version ${CURRENT_PIPELINE_VERSION}'s first detection)`, await measure(() => runners.detect(detIn.tensor, detIn.width, detIn.height))]);
rows.push(['MobileFaceNet (bare)', await measure(() => runners.embed(embIn))]);
rows.push(['MiniFASNet x2 (bare)', await measure(() => runners.liveness(liveIn))]);
const bare = await measure(async () => {
  await runners.detect(detIn640.tensor, detIn640.width, detIn640.height);
  await runners.embed(embIn);
});
rows.push(['bare detector+embedder', bare]);
const bareAll = await measure(async () => {
  await runners.detect(detIn640.tensor, detIn640.width, detIn640.height);
  await runners.embed(embIn);
  await runners.liveness(liveIn);
});
rows.push(['bare detector+embedder+2 PAD models', bareAll]);
// What the current version adds: a second detection on a crop where the face spans refineFaceSize
// pixels (version 2: also on the mirrored crop), and more views in the same embedder batch
// (versions 3 and 4: both alignments and their mirror images, 4).
const refineSize = spec.refineFaceSize;
const refineRuns = refineSize > 0 ? (spec.flip === 'mirror-redetect' ? 2 : 1) : 0;
const views = (spec.flip === 'off' ? 1 : 2) * (spec.firstLandmarks && refineSize > 0 ? 2 : 1);
const shape = `detect ${detIn.width}x${detIn.height}, refine x${refineRuns}, embed x${views}, PAD x2`;
const cropPixels = Math.ceil((2 * refineSize) / 32) * 32;
const refineIn = planarBgr(cropResize(decoded, { x: face.box.x - face.box.width / 2, y: face.box.y - face.box.height / 2, width: 2 * face.box.width, height: 2 * face.box.width }, cropPixels, cropPixels));
const embN = new Float32Array(views * embIn.length);
for (let i = 0; i < views; i += 1) embN.set(embIn, i * embIn.length);
rows.push([`YuNet refine crop ${cropPixels}x${cropPixels} (bare)`, await measure(() => runners.detect(refineIn, cropPixels, cropPixels))]);
rows.push([`MobileFaceNet, batch of ${views} (bare)`, await measure(() => runners.embed(embN, views))]);
const bareV2 = await measure(async () => {
  await runners.detect(detIn.tensor, detIn.width, detIn.height);
  for (let i = 0; i < refineRuns; i += 1) await runners.detect(refineIn, cropPixels, cropPixels);
  await runners.embed(embN, views);
  await runners.liveness(liveIn);
});
rows.push([`bare inference of pipeline v${CURRENT_PIPELINE_VERSION} (${shape})`, bareV2]);
rows.push(['sharp decode 640x480 JPEG', await measure(() => decodeImage(frame))]);
rows.push(['pipeline in-process (decode..liveness)', await measure(async () => analyzePicture(await decodeImage(frame), runners))]);
rows.push(['pipeline v3 in-process (first detection at 640)', await measure(async () => analyzePicture(await decodeImage(frame), runners, { pipelineVersion: 3 }))]);
rows.push(['pipeline v1 in-process (no refine, no flip)', await measure(async () => analyzePicture(await decodeImage(frame), runners, { pipelineVersion: 1 }))]);
rows.push(['pipeline v2 in-process (refine + mirrored refine, 2 views)', await measure(async () => analyzePicture(await decodeImage(frame), runners, { pipelineVersion: 2 }))]);
await runners.release();
// The server runs one worker (src/config/defaults.ts, FACE_RUNTIME) with a side thread and one
// onnxruntime thread per model: its bare inference is the same models run one after another on one
// thread, for a like-for-like ratio with "engine.analyze, 1 worker". The two are measured
// interleaved, one verify of each in turn, so the ratio holds on a busy machine.
const serverRunners = await createRunners(models.files, { threads: 1 });
const serverEngine = await createFaceEngine({ modelsDir, workers: 1 });
const [bareServer, analyzeServerPaired] = await measurePair(async () => {
  await serverRunners.detect(detIn.tensor, detIn.width, detIn.height);
  for (let i = 0; i < refineRuns; i += 1) await serverRunners.detect(refineIn, cropPixels, cropPixels);
  await serverRunners.embed(embN, views);
  await serverRunners.liveness(liveIn);
}, () => serverEngine.analyze(frame));
rows.push([`bare inference of pipeline v${CURRENT_PIPELINE_VERSION}, one model after another, 1 thread`, bareServer]);
rows.push([`engine.analyze, 1 worker + side thread (the server's configuration), interleaved with the row above`, analyzeServerPaired]);
await serverRunners.release();
// The operating points: version 3 (first detection at 640) against the current version, both in the
// server's configuration, interleaved.
const v3Engine = await createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 3 } });
const [analyzeV3, analyzeCurrent] = await measurePair(() => v3Engine.analyze(frame), () => serverEngine.analyze(frame));
rows.push(['engine.analyze v3 (first detection at 640), server configuration, interleaved with the next row', analyzeV3]);
rows.push([`engine.analyze v${CURRENT_PIPELINE_VERSION}, server configuration`, analyzeCurrent]);
// The fastest operating point, version 1 (first detection, one view; misses the accuracy target),
// against the current one, both in the server's configuration.
const v1Engine = await createFaceEngine({ modelsDir, workers: 1, pipeline: { pipelineVersion: 1 } });
const [analyzeV1, analyzeCurrentVsV1] = await measurePair(() => v1Engine.analyze(frame), () => serverEngine.analyze(frame));
rows.push(['engine.analyze v1 (first detection only, 1 view: misses the accuracy target), server configuration, interleaved with the next row', analyzeV1]);
rows.push([`engine.analyze v${CURRENT_PIPELINE_VERSION}, server configuration`, analyzeCurrentVsV1]);
await v1Engine.close();
const oneThread = await createFaceEngine({ modelsDir, workers: 1, sideThread: false, threadsPerWorker: cores });
const [analyzeOneThread, analyzeSide] = await measurePair(() => oneThread.analyze(frame), () => serverEngine.analyze(frame));
rows.push([`engine.analyze, 1 worker x ${cores} onnxruntime threads, no side thread (before), interleaved with the next row`, analyzeOneThread]);
rows.push(['engine.analyze, 1 worker + side thread', analyzeSide]);
await Promise.all([v3Engine.close(), oneThread.close(), serverEngine.close()]);

const engineDefault = await createFaceEngine({ modelsDir }); // 2 workers
const analyze = await measure(() => engineDefault.analyze(frame));
rows.push(['engine.analyze (default: 2 workers)', analyze]);
await engineDefault.close();

const engine1 = await createFaceEngine({ modelsDir, workers: 1 });
const analyzeServer = await measure(() => engine1.analyze(frame));
rows.push(["engine.analyze, 1 worker + side thread (the server's configuration)", analyzeServer]);
rows.push(['engine.analyze 250x250 photo, 1 worker', await measure(() => engine1.analyze(photo))]);
const challenge = await measure(async () => {
  const c = createChallenge({ random: () => 0 }); // any sequence: the cost is the 3 analyses + the check
  const faces = await Promise.all(challengeFrames.map((f) => engine1.analyze(f, { requireFrontal: false })));
  checkChallenge(c, faces.map((f, i) => ({ at: c.issuedAt + i, pose: f.pose, embedding: f.embedding })), { now: c.issuedAt + 3 });
}, Math.ceil(ITERATIONS / 3));
rows.push(['3-frame liveness check, 1 worker', challenge]);
const tput1 = await throughput(() => engine1.analyze(frame));
await engine1.close();

const engine2 = await createFaceEngine({ modelsDir, workers: 2 });
const tput2 = await throughput(() => engine2.analyze(frame));
const engine4 = await createFaceEngine({ modelsDir, workers: 4, threadsPerWorker: 1 });
const tput4 = await throughput(() => engine4.analyze(frame), { concurrency: 8 });
await engine4.close();
const challenge2 = await measure(async () => {
  await Promise.all(challengeFrames.map((f) => engine2.analyze(f, { requireFrontal: false })));
}, Math.ceil(ITERATIONS / 3));
rows.push(['3-frame liveness check, 2 workers', challenge2]);
await engine2.close();

const ratio = analyze.p95 / bare.p95;
const ratioAll = analyze.p95 / bareAll.p95;
const ratioV2 = analyze.p95 / bareV2.p95;
console.log(`# face-latency (${cores} cores, ${threads} onnxruntime thread(s) per worker, ${ITERATIONS} iterations, load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)})\n`);
console.log('| step | p50 ms | p95 ms |');
console.log('|---|---:|---:|');
for (const [name, m] of rows) console.log(`| ${name} | ${m.p50.toFixed(2)} | ${m.p95.toFixed(2)} |`);
console.log(`\nanalyze p95 / bare detector+embedder p95 = ${ratio.toFixed(2)}x; / bare all four models p95 = ${ratioAll.toFixed(2)}x`);
console.log(`analyze p95 / bare inference of the same pipeline (v${CURRENT_PIPELINE_VERSION}: ${shape}) p95 = ${ratioV2.toFixed(2)}x`);
const ratioServer = analyzeServer.p95 / bareServer.p95;
const ratioServerPaired = analyzeServerPaired.p95 / bareServer.p95;
console.log(`the server's configuration (1 worker + side thread): analyze p95 / bare inference of the same pipeline (one model after another) p95 = ${ratioServerPaired.toFixed(2)}x interleaved (p50 ${(analyzeServerPaired.p50 / bareServer.p50).toFixed(2)}x), ${ratioServer.toFixed(2)}x measured apart (target ≤ 1.5x)`);
// The absolute target depends on the machine: below it, even the models alone cannot meet it.
const TARGET_P95_MS = 30;
const serverP95s = [analyzeServerPaired, analyzeCurrent, analyzeCurrentVsV1, analyzeSide, analyzeServer].map((m) => m.p95);
console.log(`p95 target ${TARGET_P95_MS} ms for the 640x480 frame (server configuration): ${serverP95s.filter((p) => p <= TARGET_P95_MS).length} of ${serverP95s.length} version ${CURRENT_PIPELINE_VERSION} rows meet it (p95 ${Math.min(...serverP95s).toFixed(1)}–${Math.max(...serverP95s).toFixed(1)} ms); version 1, the fastest operating point, p95 ${analyzeV1.p95.toFixed(1)} ms; the bare detector+embedder+2 PAD models alone p95 ${bareAll.p95.toFixed(1)} ms`);
console.log(`throughput: 1 worker ${tput1.toFixed(1)}/s, 2 workers ${tput2.toFixed(1)}/s (${(tput2 / tput1).toFixed(2)}x) (4 in flight); 4 workers x 1 thread ${tput4.toFixed(1)}/s (8 in flight)`);

await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'face-latency.json'), `${JSON.stringify({
  cores,
  threadsPerWorker: threads,
  iterations: ITERATIONS,
  loadAverage: { before: loadBefore, after: loadavg()[0] },
  image: '640x480 JPEG: LFW Aaron_Sorkin_0001 padded',
  latencyMs: Object.fromEntries(rows.map(([name, m]) => [name, m])),
  analyzeP95OverBareP95: ratio,
  analyzeP95OverBareAllModelsP95: ratioAll,
  analyzeP95OverBareSamePipelineP95: ratioV2,
  serverConfiguration: { workers: 1, sideThread: true, threadsPerSession: 1, analyzeP95OverBareP95: ratioServerPaired, analyzeP50OverBareP50: analyzeServerPaired.p50 / bareServer.p50, measuredApartP95Ratio: ratioServer },
  pipelineVersion: CURRENT_PIPELINE_VERSION,
  operatingPoints: { v1: analyzeV1, currentVsV1: analyzeCurrentVsV1, v3: analyzeV3, current: analyzeCurrent },
  targetP95Ms: { target: TARGET_P95_MS, serverConfigurationP95s: serverP95s },
  sideThread: { without: analyzeOneThread, with: analyzeSide },
  throughputPerSecond: { workers1: tput1, workers2: tput2, workers4: tput4, ratio: tput2 / tput1 },
}, null, 2)}\n`);
