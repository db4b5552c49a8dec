// Pure parts of the face pipeline: format sniffing, decoding limits, alignment maths, NMS, crops.
// No models needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { alignFace, ARCFACE_TEMPLATE, estimateSimilarity, invertSimilarity } from '../../src/face/align.ts';
import { decodeImage, sniffFormat } from '../../src/face/decode.ts';
import { intersectionOverUnion, nonMaximumSuppression } from '../../src/face/detect.ts';
import { FaceRejected } from '../../src/face/errors.ts';
import { livenessCrop, passiveScore } from '../../src/face/passive.ts';
import { cosineSimilarity } from '../../src/face/similarity.ts';
import { faceDataDir } from '../support/shared-data.ts';

const photo = readFileSync(path.join(faceDataDir, 'images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg'));

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FaceRejected, `expected FaceRejected, got ${error}`);
    return error.code;
  }
  assert.fail('expected a rejection');
}

/** A PNG whose header claims width x height, followed by a token IDAT and IEND. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

describe('decodeImage', () => {
  it('recognises formats by content, not by name', async () => {
    assert.equal(sniffFormat(photo), 'jpeg');
    assert.equal(sniffFormat(await sharp(photo).png().toBuffer()), 'png');
    assert.equal(sniffFormat(await sharp(photo).webp().toBuffer()), 'webp');
    assert.equal(sniffFormat(Buffer.from('GIF89a...')), undefined);
  });

  it('decodes JPEG, PNG and WebP to RGB at the working size', async () => {
    for (const bytes of [photo, await sharp(photo).png().toBuffer(), await sharp(photo).webp().toBuffer()]) {
      const image = await decodeImage(bytes);
      assert.equal(image.width, 250);
      assert.equal(image.height, 250);
      assert.equal(image.data.length, 250 * 250 * 3);
      assert.equal(image.scale, 1);
    }
    const big = await sharp(photo).resize(2000, 2000).jpeg().toBuffer();
    const shrunk = await decodeImage(big, { workingSize: 1000 });
    assert.equal(shrunk.width, 1000);
    assert.equal(shrunk.scale, 2);
  });

  it('normalises grey, 16-bit, alpha and CMYK pictures to 8-bit RGB', async () => {
    for (const bytes of [
      await sharp(photo).greyscale().jpeg().toBuffer(),
      await sharp(photo).toColourspace('rgb16').png().toBuffer(),
      await sharp(photo).ensureAlpha().png().toBuffer(),
      await sharp(photo).toColourspace('cmyk').jpeg().toBuffer(),
    ]) {
      assert.equal((await decodeImage(bytes)).data.length, 250 * 250 * 3);
    }
  });

  it('applies EXIF orientation', async () => {
    const wide = await sharp(photo).resize(300, 200, { fit: 'fill' }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeImage(wide);
    assert.deepEqual([image.width, image.height], [200, 300]);
  });

  it('refuses a text file as image_unsupported_format', async () => {
    assert.equal(await rejection(decodeImage(Buffer.from('this is not a picture, just some text\n'.repeat(10)))), 'image_unsupported_format');
    assert.equal(await rejection(decodeImage(await sharp(photo).gif().toBuffer())), 'image_unsupported_format');
  });

  it('refuses a truncated JPEG as image_corrupt', async () => {
    assert.equal(await rejection(decodeImage(photo.subarray(0, Math.floor(photo.length * 0.6)))), 'image_corrupt');
  });

  it('refuses a 20000x20000 PNG header before decoding, as image_too_many_pixels', async () => {
    const bomb = pngHeader(20000, 20000);
    assert.ok(bomb.length < 100);
    assert.equal(await rejection(decodeImage(bomb)), 'image_too_many_pixels');
  });

  it('the pixel limit is decided from the header alone: one pixel over is image_too_many_pixels, exactly at it decodes', async () => {
    // A real, fully decodable picture: the refusal comes from the header check, so libvips' own
    // pixel limit (the same product, the same comparison) never fires after it (issue 11: no
    // reason parsed out of its message).
    const picture = await sharp(photo).resize(100, 80, { fit: 'fill' }).png().toBuffer();
    assert.equal(await rejection(decodeImage(picture, { maxPixels: 100 * 80 - 1 })), 'image_too_many_pixels');
    const decoded = await decodeImage(picture, { maxPixels: 100 * 80 });
    assert.deepEqual([decoded.width, decoded.height], [100, 80]);
  });

  it('refuses a file over the byte limit as image_too_large', async () => {
    assert.equal(await rejection(decodeImage(photo, { maxBytes: 1000 })), 'image_too_large');
    const oversized = Buffer.concat([photo, Buffer.alloc(5 * 1024 * 1024)]);
    assert.equal(await rejection(decodeImage(oversized)), 'image_too_large');
  });

  it('rejections carry a generic message and a stable code', () => {
    const error = new FaceRejected('too_dark');
    assert.equal(error.code, 'too_dark');
    assert.equal(error.message, 'The picture is too dark; find more light.');
  });
});

describe('alignment', () => {
  it('recovers a known similarity transform exactly', () => {
    const angle = 0.3, scale = 1.7, tx = 12, ty = -5;
    const a = scale * Math.cos(angle), b = scale * Math.sin(angle);
    const src = ARCFACE_TEMPLATE.map(([x, y]) => [x, y] as [number, number]);
    const dst = src.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty] as [number, number]);
    const fit = estimateSimilarity(src, dst);
    assert.ok(Math.abs(fit.a - a) < 1e-9 && Math.abs(fit.b - b) < 1e-9 && Math.abs(fit.tx - tx) < 1e-9 && Math.abs(fit.ty - ty) < 1e-9);
    const inverse = invertSimilarity(fit);
    const [u, v] = dst[2];
    assert.ok(Math.abs(inverse.a * u + inverse.b * v + inverse.c - src[2][0]) < 1e-9);
    assert.ok(Math.abs(inverse.d * u + inverse.e * v + inverse.f - src[2][1]) < 1e-9);
  });

  it('an image already in template position aligns to itself', async () => {
    const { data, info } = await sharp(photo).resize(112, 112).raw().toBuffer({ resolveWithObject: true });
    const image = { data: new Uint8Array(data), width: info.width, height: info.height };
    const aligned = alignFace(image, ARCFACE_TEMPLATE.map(([x, y]) => [x, y] as [number, number]));
    let diff = 0;
    for (let i = 0; i < aligned.data.length; i += 1) diff += Math.abs(aligned.data[i] - image.data[i]);
    assert.ok(diff / aligned.data.length < 0.5, `mean difference ${diff / aligned.data.length}`);
  });
});

describe('detection helpers', () => {
  const det = (x: number, score: number) => ({ box: { x, y: 0, width: 10, height: 10 }, landmarks: [], score });
  it('NMS keeps the best of overlapping boxes and separate faces', () => {
    const kept = nonMaximumSuppression([det(0, 0.7), det(1, 0.9), det(50, 0.8)], 0.3);
    assert.deepEqual(kept.map((d) => d.score), [0.9, 0.8]);
    assert.equal(intersectionOverUnion(det(0, 1).box, det(5, 1).box), 50 / 150);
  });

  it('the liveness crop is scaled around the face and kept inside the image', () => {
    assert.deepEqual(livenessCrop({ x: 90, y: 90, width: 20, height: 20 }, 200, 200, 2), { x: 80, y: 80, width: 40, height: 40 });
    const edge = livenessCrop({ x: 0, y: 0, width: 40, height: 40 }, 200, 200, 2.7);
    assert.equal(edge.x, 0);
    assert.equal(edge.width, 108);
    const shrunk = livenessCrop({ x: 50, y: 50, width: 100, height: 100 }, 200, 200, 4);
    assert.equal(shrunk.width, 199);
  });

  it('passive score averages the class-1 softmax of each model', () => {
    assert.equal(passiveScore([[0, 0, 0], [0, 0, 0]]), 1 / 3);
    assert.ok(passiveScore([[0, 10, 0], [0, 10, 0]]) > 0.99);
  });

  it('cosine similarity', () => {
    assert.equal(cosineSimilarity(new Float32Array([1, 0]), new Float32Array([0, 2])), 0);
    assert.ok(Math.abs(cosineSimilarity(new Float32Array([1, 1]), new Float32Array([2, 2])) - 1) < 1e-6);
    assert.throws(() => cosineSimilarity(new Float32Array(2), new Float32Array(3)), RangeError);
  });
});

describe('quality score', () => {
  it('is 0..1, falls with blur and turn, and stays defined when thresholds are switched off', async () => {
    const { qualityScore } = await import('../../src/face/quality.ts');
    const t = { minBrightness: 45, minSharpness: 20, maxYaw: 30, maxPitch: 25, minFaceSize: 64 };
    const good = qualityScore({ score: 0.95, stats: { brightness: 130, sharpness: 150 }, yaw: 0, pitch: 0, faceSize: 150 }, t);
    const blurred = qualityScore({ score: 0.95, stats: { brightness: 130, sharpness: 30 }, yaw: 0, pitch: 0, faceSize: 150 }, t);
    const turned = qualityScore({ score: 0.95, stats: { brightness: 130, sharpness: 150 }, yaw: 35, pitch: 0, faceSize: 150 }, t);
    assert.equal(good, 1);
    assert.ok(blurred > 0 && blurred < good && turned < good);
    const off = qualityScore({ score: 0.95, stats: { brightness: 0, sharpness: 0 }, yaw: 0, pitch: 0, faceSize: 150 }, { ...t, minBrightness: 0, minSharpness: 0 });
    assert.equal(off, 1);
  });
});
