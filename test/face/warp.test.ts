// The affine sampler on the verify path (src/face/pixels.ts) must give, byte for byte, what the
// plain bilinear loop gives: every stored face template was made through it, so a faster version
// that differs in one pixel would change what an embedding means. The plain loop is kept here as
// the reference and both are run on random images and maps: inside the source, across its
// borders, entirely outside, scaled up and down, rotated, mirrored, and NaN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warpAffine, type Affine, type RgbImage } from '../../src/face/pixels.ts';

function referenceWarp(image: RgbImage, map: Affine, width: number, height: number): RgbImage {
  const { data: src, width: sw, height: sh } = image;
  const out = new Uint8Array(width * height * 3);
  for (let v = 0; v < height; v += 1) {
    for (let u = 0; u < width; u += 1) {
      const x = map.a * u + map.b * v + map.c;
      const y = map.d * u + map.e * v + map.f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const o = (v * width + u) * 3;
      for (let c = 0; c < 3; c += 1) {
        const p00 = x0 >= 0 && y0 >= 0 && x0 < sw && y0 < sh ? src[(y0 * sw + x0) * 3 + c] : 0;
        const p10 = x0 + 1 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 < sh ? src[(y0 * sw + x0 + 1) * 3 + c] : 0;
        const p01 = x0 >= 0 && y0 + 1 >= 0 && x0 < sw && y0 + 1 < sh ? src[((y0 + 1) * sw + x0) * 3 + c] : 0;
        const p11 = x0 + 1 >= 0 && y0 + 1 >= 0 && x0 + 1 < sw && y0 + 1 < sh ? src[((y0 + 1) * sw + x0 + 1) * 3 + c] : 0;
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { data: out, width, height };
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function noise(width: number, height: number, next: () => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 1) data[i] = Math.floor(next() * 256);
  return { data, width, height };
}

describe('warpAffine', () => {
  it('matches the plain bilinear loop byte for byte on 400 random images and maps', () => {
    const next = random(20261201);
    for (let round = 0; round < 400; round += 1) {
      const image = noise(1 + Math.floor(next() * 90), 1 + Math.floor(next() * 70), next);
      const angle = (next() - 0.5) * 2 * Math.PI;
      const scale = 0.2 + next() * 3;
      const mirror = next() < 0.25 ? -1 : 1;
      // Offsets reach well outside the source, so border and all-outside pixels are exercised.
      const map: Affine = {
        a: mirror * scale * Math.cos(angle), b: -scale * Math.sin(angle), c: (next() - 0.3) * image.width * 1.5,
        d: mirror * scale * Math.sin(angle), e: scale * Math.cos(angle), f: (next() - 0.3) * image.height * 1.5,
      };
      const width = 1 + Math.floor(next() * 60);
      const height = 1 + Math.floor(next() * 60);
      const expected = referenceWarp(image, map, width, height);
      const actual = warpAffine(image, map, width, height);
      assert.equal(actual.width, width);
      assert.equal(actual.height, height);
      assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), `round ${round}: output differs from the reference`);
    }
  });

  it('matches on the maps the pipeline uses: axis-aligned resizes (exact pixel grid) and the 112x112 alignment', () => {
    const next = random(7);
    const frame = noise(640, 480, next);
    const cases: Array<[Affine, number, number]> = [
      [{ a: 640 / 320, b: 0, c: 0.5 * 2 - 0.5, d: 0, e: 480 / 240, f: 0.5 * 2 - 0.5 }, 320, 240], // detector downscale
      [{ a: 200 / 512, b: 0, c: 170 + 0.5 * (200 / 512) - 0.5, d: 0, e: 200 / 512, f: 90 + 0.5 * (200 / 512) - 0.5 }, 512, 512], // refine crop
      [{ a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 }, 640, 480], // identity
      [{ a: 0.8, b: -0.1, c: 250.3, d: 0.1, e: 0.8, f: 160.7 }, 112, 112], // an alignment
      [{ a: -0.8, b: -0.1, c: 350.3, d: 0.1, e: 0.8, f: 160.7 }, 112, 112], // its mirror image
    ];
    for (const [map, width, height] of cases) {
      assert.ok(Buffer.from(warpAffine(frame, map, width, height).data).equals(Buffer.from(referenceWarp(frame, map, width, height).data)), JSON.stringify(map));
    }
  });

  it('reads outside the source as black, and a NaN map gives black instead of throwing', () => {
    const image = noise(8, 8, random(3));
    const outside = warpAffine(image, { a: 1, b: 0, c: 100, d: 0, e: 1, f: 100 }, 4, 4);
    assert.ok(outside.data.every((value) => value === 0));
    const nan = warpAffine(image, { a: Number.NaN, b: 0, c: 0, d: 0, e: 1, f: 0 }, 4, 4);
    assert.ok(nan.data.every((value) => value === 0));
    // One pixel exactly on a source pixel copies it.
    const copy = warpAffine(image, { a: 1, b: 0, c: 2, d: 0, e: 1, f: 3 }, 1, 1);
    assert.deepEqual([...copy.data], [...image.data.subarray((3 * 8 + 2) * 3, (3 * 8 + 2) * 3 + 3)]);
  });
});
