// Pipeline version 4 (issue 15): version 3 with the first detection on the picture scaled to ≤ 320
// px instead of ≤ 640. Its landmarks are refined on a crop anyway, so the smaller first detection
// only has to find the face and judge it (box, size, pose). Real models and LFW pictures: a 250x250
// photo (no scaling either way: exactly version 3) and a 640x480 camera frame (half the size).
// A version-3 template is still compared like with like: the version-3 embedding of a frame needs
// its own first detection at 640, which the pipeline runs only when version 3 is asked for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeImage } from '../../src/face/decode.ts';
import { asCameraFrame } from '../../src/face/eval/camera-frame.ts';
import { loadModels } from '../../src/face/models.ts';
import { analyzePicture, CURRENT_PIPELINE_VERSION, PIPELINE_VERSIONS, type FaceRunners } from '../../src/face/pipeline.ts';
import type { RgbImage } from '../../src/face/pixels.ts';
import { createRunners } from '../../src/face/runners.ts';
import { cosineSimilarity } from '../../src/face/similarity.ts';
import { FACE_THRESHOLDS } from '../../src/face/templates/service.ts';
import { faceDataDir, modelsDir } from '../support/shared-data.ts';

const lfw = (person: string, index: number) => readFileSync(path.join(faceDataDir, 'images', person, `${person}_${String(index).padStart(4, '0')}.jpg`));

describe('face pipeline version 4', () => {
  let runners: FaceRunners & { release(): Promise<void> };
  let photo: RgbImage;
  let frame: RgbImage;
  const detections: string[] = [];
  let counting: FaceRunners;

  before(async () => {
    const models = await loadModels({ dir: modelsDir });
    assert.ok(models.available);
    runners = await createRunners(models.files);
    counting = { ...runners, detect: (tensor, width, height) => (detections.push(`${width}x${height}`), runners.detect(tensor, width, height)) };
    photo = await decodeImage(lfw('Tony_Blair', 18));
    frame = await decodeImage(await asCameraFrame(lfw('Tony_Blair', 18)));
  });
  after(() => runners?.release());

  it('is the current version: version 3 with the first detection at 320 px, and the same threshold', () => {
    assert.equal(CURRENT_PIPELINE_VERSION, 4);
    assert.deepEqual(PIPELINE_VERSIONS[4], { ...PIPELINE_VERSIONS[3], detectorSize: 320 });
    // Re-derived on the LFW dev split, where every photo is 250 px and version 4 is version 3 exactly.
    assert.equal(FACE_THRESHOLDS[4], FACE_THRESHOLDS[3]);
  });

  it('detects a camera frame at half size first, then refines on the usual 512 px crop', async () => {
    detections.length = 0;
    const v4 = await analyzePicture(frame, counting);
    assert.equal(v4.pipelineVersion, 4);
    assert.deepEqual(detections, ['320x256', '512x512']);
    detections.length = 0;
    const v3 = await analyzePicture(frame, counting, { pipelineVersion: 3 });
    assert.deepEqual(detections, ['640x480', '512x512']);
    // Box and landmarks come back in the frame's pixels either way, and describe the same face.
    assert.ok(Math.abs(v4.box.x - v3.box.x) < 0.1 * v3.box.width && Math.abs(v4.box.width - v3.box.width) < 0.15 * v3.box.width, JSON.stringify([v4.box, v3.box]));
    assert.ok(Math.abs(v4.pose.yaw - v3.pose.yaw) < 10);
    // Not the same embedding (the first landmarks differ), but the same face.
    assert.notDeepEqual(v4.embedding, v3.embedding);
    assert.ok(cosineSimilarity(v4.embedding, v3.embedding) > 0.9);
  });

  it('gives exactly version 3 on a picture of 320 px or less', async () => {
    detections.length = 0;
    const v4 = await analyzePicture(photo, counting);
    assert.deepEqual(detections, ['256x256', '512x512']);
    const v3 = await analyzePicture(photo, runners, { pipelineVersion: 3 });
    assert.deepEqual(v4.embedding, v3.embedding);
    assert.deepEqual(v4.box, v3.box);
    // And asking for version 3 alongside costs no second first detection.
    detections.length = 0;
    const both = await analyzePicture(photo, counting, { alsoEmbed: [3] });
    assert.deepEqual(detections, ['256x256', '512x512']);
    assert.ok(cosineSimilarity(both.embeddings[3]!, v3.embedding) > 0.99999);
  });

  it('embeds version 3 of a camera frame like version 3 itself (for version-3 templates)', async () => {
    detections.length = 0;
    const both = await analyzePicture(frame, counting, { alsoEmbed: [3, 1] });
    assert.deepEqual(detections, ['320x256', '512x512', '640x480', '512x512'], 'version 3 gets its own first detection and crop');
    const v3 = await analyzePicture(frame, runners, { pipelineVersion: 3 });
    const v1 = await analyzePicture(frame, runners, { pipelineVersion: 1 });
    const v4 = await analyzePicture(frame, runners);
    assert.ok(cosineSimilarity(both.embeddings[3]!, v3.embedding) > 0.99999);
    assert.ok(cosineSimilarity(both.embeddings[1]!, v1.embedding) > 0.99999);
    assert.ok(cosineSimilarity(both.embeddings[4]!, v4.embedding) > 0.99999);
    assert.ok(cosineSimilarity(both.embeddings[3]!, both.embeddings[4]!) < 0.99999);
  });
});
