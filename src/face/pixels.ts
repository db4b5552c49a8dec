// Raw RGB pixel helpers shared by detection, alignment and the liveness crops. Pure functions on
// interleaved 8-bit RGB buffers, so they run unchanged inside the inference workers.

export interface RgbImage {
  /** Interleaved RGB, 3 bytes per pixel, row-major, no padding. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** Affine map from output pixel (u, v) to source position: x = a*u + b*v + c, y = d*u + e*v + f. */
export interface Affine {
  a: number; b: number; c: number;
  d: number; e: number; f: number;
}

/**
 * Samples `image` through an affine map into a new width x height RGB image with bilinear
 * interpolation; positions outside the source read as black (like OpenCV's warpAffine default).
 *
 * Hand-written (no image library does sub-pixel affine sampling on raw buffers inside the
 * workers), and on the verify path: a version-3 analysis samples about 0.3 M pixels (the 512x512
 * refine crop, two 112x112 alignments, the liveness crops), so the common case — all four
 * neighbours inside the source — skips the per-neighbour bounds checks. The arithmetic is the
 * same in both branches, so the output is byte-for-byte what the plain loop gives
 * (test/face/warp.test.ts keeps that loop as the reference): templates do not change meaning.
 */
export function warpAffine(image: RgbImage, map: Affine, width: number, height: number): RgbImage {
  const { data: src, width: sw, height: sh } = image;
  const { a, b, c, d, e, f } = map;
  const out = new Uint8Array(width * height * 3);
  const stride = sw * 3;
  if (b === 0 && d === 0) return resample(src, sw, sh, a, c, e, f, out, width, height);
  let o = 0;
  for (let v = 0; v < height; v += 1) {
    for (let u = 0; u < width; u += 1, o += 3) {
      // Integer coordinates name pixels, as in OpenCV's warpAffine (the ArcFace template and
      // YuNet's landmarks use the same convention).
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
        insidePixel(src, y0 * stride + x0 * 3, stride, fx, fy, out, o);
      } else if (x0 + 1 < 0 || y0 + 1 < 0 || x0 >= sw || y0 >= sh) {
        // Every neighbour outside: black, which the new buffer already is.
      } else {
        borderPixel(src, sw, sh, x0, y0, fx, fy, out, o);
      }
    }
  }
  return { data: out, width, height };
}

/**
 * warpAffine for a map without rotation (crops and resizes): x depends on the column only and y
 * on the row only, so both are computed once per column and row, with the same arithmetic (b·v
 * and d·u are zeros, which change no sum but the sign of a zero the pixel does not see).
 */
function resample(src: Uint8Array, sw: number, sh: number, a: number, c: number, e: number, f: number, out: Uint8Array, width: number, height: number): RgbImage {
  const stride = sw * 3;
  const column = new Float64Array(width);
  const columnFraction = new Float64Array(width);
  const columnInside = new Uint8Array(width);
  for (let u = 0; u < width; u += 1) {
    const x = a * u + c;
    const x0 = Math.floor(x);
    column[u] = x0;
    columnFraction[u] = x - x0;
    columnInside[u] = x0 >= 0 && x0 + 1 < sw ? 1 : 0;
  }
  let o = 0;
  for (let v = 0; v < height; v += 1) {
    const y = e * v + f;
    const y0 = Math.floor(y);
    const fy = y - y0;
    if (!(y0 >= 0 && y0 + 1 < sh)) {
      // A row on or beyond the top or bottom border: the general loop's checks, per pixel.
      for (let u = 0; u < width; u += 1, o += 3) borderPixel(src, sw, sh, column[u], y0, columnFraction[u], fy, out, o);
      continue;
    }
    const rowStart = y0 * stride;
    for (let u = 0; u < width; u += 1, o += 3) {
      const fx = columnFraction[u];
      if (columnInside[u] === 0) {
        borderPixel(src, sw, sh, column[u], y0, fx, fy, out, o);
        continue;
      }
      insidePixel(src, rowStart + column[u] * 3, stride, fx, fy, out, o);
    }
  }
  return { data: out, width, height };
}

/** One output pixel whose four neighbours are inside; `i00` is the top-left one's first byte. */
function insidePixel(src: Uint8Array, i00: number, stride: number, fx: number, fy: number, out: Uint8Array, o: number): void {
  const i01 = i00 + stride;
  for (let k = 0; k < 3; k += 1) {
    const p00 = src[i00 + k];
    const p10 = src[i00 + 3 + k];
    const p01 = src[i01 + k];
    const p11 = src[i01 + 3 + k];
    const top = p00 + (p10 - p00) * fx;
    const bottom = p01 + (p11 - p01) * fx;
    out[o + k] = Math.round(top + (bottom - top) * fy);
  }
}

/** One output pixel whose neighbours may lie outside the source (those read as black). */
function borderPixel(src: Uint8Array, sw: number, sh: number, x0: number, y0: number, fx: number, fy: number, out: Uint8Array, o: number): void {
  for (let k = 0; k < 3; k += 1) {
    const p00 = x0 >= 0 && y0 >= 0 && x0 < sw && y0 < sh ? src[(y0 * sw + x0) * 3 + k] : 0;
    const p10 = x0 + 1 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 < sh ? src[(y0 * sw + x0 + 1) * 3 + k] : 0;
    const p01 = x0 >= 0 && y0 + 1 >= 0 && x0 < sw && y0 + 1 < sh ? src[((y0 + 1) * sw + x0) * 3 + k] : 0;
    const p11 = x0 + 1 >= 0 && y0 + 1 >= 0 && x0 + 1 < sw && y0 + 1 < sh ? src[((y0 + 1) * sw + x0 + 1) * 3 + k] : 0;
    const top = p00 + (p10 - p00) * fx;
    const bottom = p01 + (p11 - p01) * fx;
    out[o + k] = Math.round(top + (bottom - top) * fy);
  }
}

/** Resizes (bilinear) the rectangle [x, y, width, height] of `image` to outW x outH. */
export function cropResize(
  image: RgbImage,
  rect: { x: number; y: number; width: number; height: number },
  outW: number,
  outH: number,
): RgbImage {
  const sx = rect.width / outW;
  const sy = rect.height / outH;
  // Pixel centres onto pixel centres, like cv2.resize: x = (u + 0.5)·sx − 0.5.
  return warpAffine(image, { a: sx, b: 0, c: rect.x + 0.5 * sx - 0.5, d: 0, e: sy, f: rect.y + 0.5 * sy - 0.5 }, outW, outH);
}

/** The mirror image (left and right swapped). */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const s = (y * width + x) * 3;
      const t = (y * width + (width - 1 - x)) * 3;
      out[t] = data[s]; out[t + 1] = data[s + 1]; out[t + 2] = data[s + 2];
    }
  }
  return { data: out, width, height };
}

/** Planar float tensor [3, H, W] from an RGB image, channel order and scaling chosen by the model. */
export function toPlanar(
  image: RgbImage,
  { bgr = false, mean = [0, 0, 0], std = [1, 1, 1], scale = 1 }: { bgr?: boolean; mean?: number[]; std?: number[]; scale?: number } = {},
  target: Float32Array = new Float32Array(3 * image.width * image.height),
  offset = 0,
): Float32Array {
  const n = image.width * image.height;
  const { data } = image;
  for (let c = 0; c < 3; c += 1) {
    const srcChannel = bgr ? 2 - c : c;
    const m = mean[c];
    const s = std[c];
    const base = offset + c * n;
    for (let i = 0; i < n; i += 1) target[base + i] = (data[i * 3 + srcChannel] * scale - m) / s;
  }
  return target;
}

/** Luminance (Rec. 601) as floats 0..255. */
export function toGray(image: RgbImage): Float32Array {
  const n = image.width * image.height;
  const gray = new Float32Array(n);
  const { data } = image;
  for (let i = 0; i < n; i += 1) gray[i] = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
  return gray;
}
