// The affine sampler on the verify path (src/face/pixels.ts) must give, byte for byte, what the
// plain bilinear loop gives: every stored face template was made through it, so a faster version
// that differs in one pixel would change what an embedding means. The plain loop is kept here as
// the reference and both are run on random images and maps: inside the source, across its
// borders, entirely outside, scaled up and down, rotated, mirrored, and NaN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectorInput, planarBgr } from '../../src/face/detect.ts';
import { cropResize, cropResizePlanar, flipHorizontal, midpointGrid, mirrorPlanar, roundPixel, toPlanar, warpAffine, type Affine, type RgbImage } from '../../src/face/pixels.ts';

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

  it('matches it on 400 random maps without rotation (crops and resizes: each source row interpolated once)', () => {
    const next = random(20261202);
    for (let round = 0; round < 400; round += 1) {
      const image = noise(1 + Math.floor(next() * 90), 1 + Math.floor(next() * 70), next);
      // Up- and downscaling, mirrored on either axis, a whole-pixel step now and then, offsets across the borders.
      const step = () => (next() < 0.2 ? Math.floor(1 + next() * 3) : 0.1 + next() * 3) * (next() < 0.2 ? -1 : 1);
      const map: Affine = { a: step(), b: 0, c: (next() - 0.3) * image.width * 1.5, d: 0, e: step(), f: (next() - 0.3) * image.height * 1.5 };
      const width = 1 + Math.floor(next() * 60);
      const height = 1 + Math.floor(next() * 60);
      const expected = referenceWarp(image, map, width, height);
      assert.ok(Buffer.from(warpAffine(image, map, width, height).data).equals(Buffer.from(expected.data)), `round ${round}: output differs from the reference`);
    }
  });

  it('cropResizePlanar gives the floats of cropResize → (flipHorizontal) → toPlanar, padded where asked', () => {
    const next = random(11);
    for (let round = 0; round < 200; round += 1) {
      const image = noise(1 + Math.floor(next() * 90), 1 + Math.floor(next() * 70), next);
      const rect = { x: (next() - 0.3) * image.width, y: (next() - 0.3) * image.height, width: 1 + next() * image.width * 1.5, height: 1 + next() * image.height * 1.5 };
      const outW = 1 + Math.floor(next() * 40);
      const outH = 1 + Math.floor(next() * 40);
      const bgr = next() < 0.5;
      const mirrored = next() < 0.5;
      const pad = next() < 0.5 ? 0 : 3;
      const crop = cropResize(image, rect, outW, outH);
      const view = mirrored ? flipHorizontal(crop) : crop;
      const expected = new Float32Array(3 * (outW + pad) * (outH + pad));
      const planes = toPlanar(view, { bgr });
      for (let c = 0; c < 3; c += 1) {
        for (let y = 0; y < outH; y += 1) expected.set(planes.subarray(c * outW * outH + y * outW, c * outW * outH + (y + 1) * outW), c * (outW + pad) * (outH + pad) + y * (outW + pad));
      }
      const actual = cropResizePlanar(image, rect, outW, outH, { bgr, mirrored, tensorWidth: outW + pad, tensorHeight: outH + pad });
      assert.ok(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)), `round ${round}`);
    }
    // A NaN rectangle gives zeros, as the bytes of cropResize are.
    assert.ok(cropResizePlanar(noise(8, 8, next), { x: Number.NaN, y: 0, width: 4, height: 4 }, 4, 4).every((value) => Object.is(value, 0)));
  });

  it('cropResizePlanar on a midpoint grid (whole-pixel scale, samples halfway between pixels) takes its integer path and gives the same floats', () => {
    const next = random(23);
    const frame = noise(640, 480, next);
    const large = noise(1280, 960, next);
    const cases: Array<{ image: RgbImage; rect: { x: number; y: number; width: number; height: number }; outW: number; outH: number; fast: boolean }> = [
      { image: frame, rect: { x: 0, y: 0, width: 640, height: 480 }, outW: 320, outH: 240, fast: true }, // the frame's first detection
      { image: large, rect: { x: 0, y: 0, width: 1280, height: 960 }, outW: 320, outH: 240, fast: true }, // scale 4
      { image: frame, rect: { x: 10, y: 6, width: 200, height: 100 }, outW: 100, outH: 50, fast: true },
      { image: frame, rect: { x: 1, y: 0, width: 640, height: 480 }, outW: 320, outH: 240, fast: false }, // last column's neighbour outside
      { image: frame, rect: { x: -2, y: 0, width: 640, height: 480 }, outW: 320, outH: 240, fast: false }, // first column's outside
      { image: frame, rect: { x: 0, y: 0, width: 640, height: 480 }, outW: 640, outH: 480, fast: false }, // scale 1 samples on pixels
      { image: frame, rect: { x: 0, y: 0, width: 640, height: 480 }, outW: 213, outH: 160, fast: false }, // scale 3 samples on pixels
    ];
    for (const { image, rect, outW, outH, fast } of cases) {
      const sx = rect.width / outW;
      const sy = rect.height / outH;
      const onGrid = midpointGrid(sx, rect.x + 0.5 * sx - 0.5, outW, image.width) && midpointGrid(sy, rect.y + 0.5 * sy - 0.5, outH, image.height);
      assert.equal(onGrid, fast, JSON.stringify(rect));
      for (const [bgr, mirrored, pad] of [[true, false, 16], [false, true, 0]] as const) {
        const crop = cropResize(image, rect, outW, outH);
        const planes = toPlanar(mirrored ? flipHorizontal(crop) : crop, { bgr });
        const expected = new Float32Array(3 * outW * (outH + pad));
        for (let c = 0; c < 3; c += 1) expected.set(planes.subarray(c * outW * outH, (c + 1) * outW * outH), c * outW * (outH + pad));
        const reused = new Float32Array(expected.length).fill(77);
        const actual = cropResizePlanar(image, rect, outW, outH, { bgr, mirrored, tensorHeight: outH + pad, tensor: reused });
        assert.ok(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)), `${JSON.stringify(rect)} → ${outW}x${outH}, bgr ${bgr}, mirrored ${mirrored}`);
      }
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

  it('the detector input is the image (resized when larger than the detector size) as planar BGR floats, padded with zeros', () => {
    const next = random(13);
    const reference = (image: RgbImage, width: number, height: number) => {
      const tensor = new Float32Array(3 * width * height);
      for (let y = 0; y < image.height; y += 1) {
        for (let x = 0; x < image.width; x += 1) {
          for (let c = 0; c < 3; c += 1) tensor[c * width * height + y * width + x] = image.data[(y * image.width + x) * 3 + 2 - c]!;
        }
      }
      return tensor;
    };
    for (const [w, h] of [[64, 64], [70, 45], [33, 1], [7, 3], [640, 480]]) {
      const image = noise(w, h, next);
      const padded = planarBgr(image, Math.ceil(w / 32) * 32, Math.ceil(h / 32) * 32);
      assert.ok(Buffer.from(padded.buffer).equals(Buffer.from(reference(image, Math.ceil(w / 32) * 32, Math.ceil(h / 32) * 32).buffer)));
      assert.ok(Buffer.from(planarBgr(image).buffer).equals(Buffer.from(reference(image, w, h).buffer)));
      // The same pixels at an odd offset (read byte by byte, not as 32-bit words).
      const shifted = new Uint8Array(image.data.length + 1).subarray(1);
      shifted.set(image.data);
      assert.ok(Buffer.from(planarBgr({ data: shifted, width: w, height: h }).buffer).equals(Buffer.from(reference(image, w, h).buffer)));
      // A reused buffer holding another picture's values: every element is written, padding included.
      const reused = new Float32Array(padded.length).fill(77);
      planarBgr(image, Math.ceil(w / 32) * 32, Math.ceil(h / 32) * 32, reused);
      assert.ok(Buffer.from(reused.buffer).equals(Buffer.from(padded.buffer)));
    }
    const large = noise(900, 700, next);
    const input = detectorInput(large);
    assert.deepEqual([input.width, input.height, input.scale], [640, 512, 900 / 640]);
    const resized = cropResize(large, { x: 0, y: 0, width: 900, height: 700 }, 640, 498);
    assert.ok(Buffer.from(input.tensor.buffer).equals(Buffer.from(reference(resized, 640, 512).buffer)));
    const reused = detectorInput(large, { allocate: (length) => new Float32Array(length).fill(77) });
    assert.ok(Buffer.from(reused.tensor.buffer).equals(Buffer.from(input.tensor.buffer)));
  });

  it('roundPixel is Math.round on every value a sample can take: around each k + 0.5, near 0, and at random', () => {
    const bits = new Float64Array(1);
    const words = new BigInt64Array(bits.buffer);
    const step = (x: number, by: bigint) => { bits[0] = x; words[0] += by; return bits[0]!; }; // by ulps (x > 0)
    const values = [0, -0, Number.NaN, 0.49999999999999994, Number.MIN_VALUE, 255];
    for (let k = 0; k <= 255; k += 1) {
      for (const centre of [k + 0.5, k]) {
        if (centre === 0) continue;
        for (let d = -40n; d <= 40n; d += 1n) values.push(step(centre, d));
      }
    }
    const next = random(5);
    for (let i = 0; i < 200_000; i += 1) values.push(next() * 255);
    for (const x of values) assert.ok(Object.is(roundPixel(x) || 0, Math.round(x) || 0), `roundPixel(${x}) = ${roundPixel(x)}, Math.round gives ${Math.round(x)}`);
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

describe('planar model inputs', () => {
  it('toPlanar gives (byte · scale − mean) / std per channel, in either channel order', () => {
    const next = random(17);
    for (const [bgr, scale, mean, std] of [[false, 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]], [true, 1, [0, 0, 0], [1, 1, 1]], [true, 1 / 127.5, [1, 1, 1], [1, 1, 1]]] as const) {
      const image = noise(37, 23, next);
      const n = 37 * 23;
      const expected = new Float32Array(3 * n + 5);
      for (let c = 0; c < 3; c += 1) {
        for (let i = 0; i < n; i += 1) expected[5 + c * n + i] = (image.data[i * 3 + (bgr ? 2 - c : c)]! * scale - mean[c]!) / std[c]!;
      }
      const actual = toPlanar(image, { bgr, scale, mean: [...mean], std: [...std] }, new Float32Array(3 * n + 5), 5);
      assert.ok(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)));
    }
  });

  it('mirrorPlanar of a face input is the input of the mirrored face', () => {
    const next = random(19);
    const face = noise(112, 112, next);
    const options = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const length = 3 * 112 * 112;
    const batch = new Float32Array(3 * length);
    toPlanar(face, options, batch, length);
    mirrorPlanar(batch, length, 2 * length, 112, 112);
    assert.ok(Buffer.from(batch.buffer, 2 * length * 4).equals(Buffer.from(toPlanar(flipHorizontal(face), options).buffer)));
    assert.ok(batch.subarray(0, length).every((value) => value === 0)); // nothing else written
  });
});
