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
 * neighbours inside the source — skips the per-neighbour bounds checks, and maps without rotation
 * (crops, resizes) interpolate each source row once (see `resampleRows`). The arithmetic is the
 * same on every path, so the output is byte-for-byte what the plain loop gives
 * (test/face/warp.test.ts keeps that loop as the reference): templates do not change meaning.
 */
export function warpAffine(image: RgbImage, map: Affine, width: number, height: number): RgbImage {
  const { a, b, c, d, e, f } = map;
  const out = new Uint8Array(width * height * 3);
  if (b === 0 && d === 0) {
    resampleRows(image, a, c, e, f, width, height, (top, bottom, fy, v) => verticalRgb(top, bottom, fy, out, v * width * 3, width * 3));
    return { data: out, width, height };
  }
  // One row per call: V8 optimises the row loop as a function of its own, instead of replacing
  // a nested loop on the stack (and leaving that code again at the end of every call).
  for (let v = 0; v < height; v += 1) warpRow(image.data, image.width, image.height, a, b * v, c, d, e * v, f, width, out, v * width * 3);
  return { data: out, width, height };
}

/** One output row of the general map (b·v and e·v given; the sums are grouped as the plain loop's a·u + b·v + c). */
function warpRow(src: Uint8Array, sw: number, sh: number, a: number, bv: number, c: number, d: number, ev: number, f: number, width: number, out: Uint8Array, o: number): void {
  const stride = sw * 3;
  for (let u = 0; u < width; u += 1, o += 3) {
    // Integer coordinates name pixels, as in OpenCV's warpAffine (the ArcFace template and
    // YuNet's landmarks use the same convention).
    const x = a * u + bv + c;
    const y = d * u + ev + f;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
      const i00 = y0 * stride + x0 * 3;
      const i01 = i00 + stride;
      for (let k = 0; k < 3; k += 1) {
        const p00 = src[i00 + k];
        const p10 = src[i00 + 3 + k];
        const p01 = src[i01 + k];
        const p11 = src[i01 + 3 + k];
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + k] = roundPixel(top + (bottom - top) * fy);
      }
    } else if (x0 + 1 < 0 || y0 + 1 < 0 || x0 >= sw || y0 >= sh) {
      // Every neighbour outside: black, which the new buffer already is.
    } else {
      borderPixel(src, sw, sh, x0, y0, fx, fy, out, o);
    }
  }
}

/** The one value in [0, 0.5) that x + 0.5 rounds up to 1. */
const BELOW_HALF = 0.49999999999999994;

/**
 * Math.round for a bilinear sample, which is NaN or in [0, 255] (a convex combination of bytes
 * stays within them in floating point too): floor(x + 0.5) is exact for x ≥ 0.5, and below that
 * only BELOW_HALF would round up. The same result as Math.round, but V8 compiles Math.round with a
 * branch on the fraction, which noisy pixels mispredict half the time: this was three quarters of
 * the refine crop's cost (test/face/warp.test.ts checks it against Math.round around every k + 0.5).
 */
export function roundPixel(x: number): number {
  return x === BELOW_HALF ? 0 : Math.floor(x + 0.5);
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
    out[o + k] = roundPixel(top + (bottom - top) * fy);
  }
}

/**
 * The sampler for a map without rotation (crops and resizes): x depends on the column only and y
 * on the row only. The bilinear value is top + (bottom − top)·fy, where top and bottom are the two
 * source rows y0 and y0 + 1 interpolated across at the column's x; those interpolated rows are
 * computed once per source row and handed to `emit` for every output row that needs them (an
 * upscaled crop uses each source row for several output rows). Same arithmetic as the plain loop:
 * b·v and d·u are zeros, which change no sum but the sign of a zero the pixel does not see.
 */
function resampleRows(
  image: RgbImage, a: number, c: number, e: number, f: number, width: number, height: number,
  emit: (top: Float64Array, bottom: Float64Array, fy: number, v: number) => void,
): boolean {
  const { data: src, width: sw, height: sh } = image;
  const column = new Float64Array(width);
  const fraction = new Float64Array(width);
  let finite = true; // every fraction a number (a non-finite map makes NaN samples)
  // Byte offset of the left neighbour when both neighbours are inside the source, else −1.
  const index = new Int32Array(width);
  for (let u = 0; u < width; u += 1) {
    const x = a * u + c;
    const x0 = Math.floor(x);
    column[u] = x0;
    fraction[u] = x - x0;
    index[u] = x0 >= 0 && x0 + 1 < sw ? x0 * 3 : -1;
    if (!(fraction[u] <= 1)) finite = false;
  }
  let top = new Float64Array(width * 3);
  let bottom = new Float64Array(width * 3);
  let topRow = Number.NaN; // the source row each buffer holds (NaN: none; NaN equals nothing)
  let bottomRow = Number.NaN;
  for (let v = 0; v < height; v += 1) {
    const y = e * v + f;
    const y0 = Math.floor(y);
    if (topRow !== y0) {
      if (bottomRow === y0) {
        const held = top;
        top = bottom;
        bottom = held;
        topRow = y0;
        bottomRow = Number.NaN;
      } else {
        interpolateRow(src, sw, sh, y0, column, fraction, index, top);
        topRow = y0;
      }
    }
    if (bottomRow !== y0 + 1) {
      interpolateRow(src, sw, sh, y0 + 1, column, fraction, index, bottom);
      bottomRow = y0 + 1;
    }
    const fy = y - y0;
    if (!(fy <= 1)) finite = false;
    emit(top, bottom, fy, v);
  }
  return finite;
}

/** Source row `y` interpolated at every column's x (neighbours outside the source read as 0). */
function interpolateRow(src: Uint8Array, sw: number, sh: number, y: number, column: Float64Array, fraction: Float64Array, index: Int32Array, row: Float64Array): void {
  const width = column.length;
  if (!(y >= 0 && y < sh)) {
    for (let u = 0, o = 0; u < width; u += 1, o += 3) {
      const h = 0 + (0 - 0) * fraction[u]; // 0, or NaN for a NaN map, as the plain loop gives
      row[o] = h; row[o + 1] = h; row[o + 2] = h;
    }
    return;
  }
  const base = y * sw * 3;
  for (let u = 0, o = 0; u < width; u += 1, o += 3) {
    const fx = fraction[u];
    const left = index[u];
    if (left >= 0) {
      const i = base + left;
      let p0 = src[i], p1 = src[i + 3];
      row[o] = p0 + (p1 - p0) * fx;
      p0 = src[i + 1]; p1 = src[i + 4];
      row[o + 1] = p0 + (p1 - p0) * fx;
      p0 = src[i + 2]; p1 = src[i + 5];
      row[o + 2] = p0 + (p1 - p0) * fx;
    } else {
      const x0 = column[u];
      const in0 = x0 >= 0 && x0 < sw;
      const in1 = x0 + 1 >= 0 && x0 + 1 < sw;
      for (let k = 0; k < 3; k += 1) {
        const p0 = in0 ? src[base + x0 * 3 + k] : 0;
        const p1 = in1 ? src[base + (x0 + 1) * 3 + k] : 0;
        row[o + k] = p0 + (p1 - p0) * fx;
      }
    }
  }
}

/** An output row as interleaved bytes. */
function verticalRgb(top: Float64Array, bottom: Float64Array, fy: number, out: Uint8Array, o: number, n: number): void {
  for (let i = 0; i < n; i += 1) {
    const t = top[i];
    out[o + i] = roundPixel(t + (bottom[i] - t) * fy);
  }
}

export interface PlanarTarget {
  /** Receives [3, tensorHeight, tensorWidth] floats, padding included; allocated when absent. */
  tensor?: Float32Array;
  /** Index of the first float. */
  offset?: number;
  /** Plane size when the output is padded (right/bottom); defaults to the output size. */
  tensorWidth?: number;
  tensorHeight?: number;
  /** Channel order of the planes (default RGB). */
  bgr?: boolean;
  /** Writes the mirror image (left and right swapped). */
  mirrored?: boolean;
}

/**
 * cropResize straight into a planar float tensor: the values are the bytes cropResize gives
 * (then toPlanar without scaling, and flipHorizontal when mirrored), without the intermediate
 * image. For model inputs that take raw 0..255 pixels (YuNet, MiniFASNet).
 */
export function cropResizePlanar(
  image: RgbImage,
  rect: { x: number; y: number; width: number; height: number },
  outW: number,
  outH: number,
  { tensor, offset = 0, tensorWidth = outW, tensorHeight = outH, bgr = false, mirrored = false }: PlanarTarget = {},
): Float32Array {
  const target = tensor ?? new Float32Array(3 * tensorWidth * tensorHeight);
  const plane = tensorWidth * tensorHeight;
  const first = bgr ? 2 : 0; // source channel of plane 0
  const sx = rect.width / outW;
  const sy = rect.height / outH;
  if (tensor) zeroPadding(target, offset, outW, outH, tensorWidth, tensorHeight);
  const cx = rect.x + 0.5 * sx - 0.5;
  const cy = rect.y + 0.5 * sy - 0.5;
  if (midpointGrid(sx, cx, outW, image.width) && midpointGrid(sy, cy, outH, image.height)) {
    averageBlocks(image, sx, cx, sy, cy, outW, outH, target, offset, tensorWidth, plane, first, mirrored);
    return target;
  }
  const finite = resampleRows(image, sx, cx, sy, cy, outW, outH, (top, bottom, fy, v) =>
    verticalPlanar(top, bottom, fy, target, offset + v * tensorWidth, plane, outW, first, mirrored));
  if (!finite) {
    // NaN samples are the bytes 0 in cropResize's image (a Uint8Array store of NaN).
    for (let c = 0; c < 3; c += 1) {
      for (let v = 0; v < outH; v += 1) {
        const row = offset + c * plane + v * tensorWidth;
        for (let u = row; u < row + outW; u += 1) if (Number.isNaN(target[u])) target[u] = 0;
      }
    }
  }
  return target;
}

/**
 * Whether every output pixel along one axis samples exactly halfway between two source pixels that
 * are both inside the source: position = scale·u + origin with an integer scale and an origin whose
 * fraction is ½ (a 640x480 frame scaled to 320x240 for detection is such a grid on both axes).
 */
export function midpointGrid(scale: number, origin: number, outputs: number, sourceSize: number): boolean {
  return Number.isInteger(scale) && origin - Math.floor(origin) === 0.5 && origin >= 0 && Math.floor(scale * (outputs - 1) + origin) + 1 < sourceSize;
}

/**
 * cropResizePlanar on a midpoint grid (see midpointGrid) in integers. Both fractions are ½, so the
 * bilinear value top + (bottom − top)·½ with top = p00 + (p10 − p00)·½ is exactly the four
 * neighbours' sum / 4 in floating point (halves and quarters of small integers), and roundPixel of
 * it, floor(sum / 4 + ½), is (sum + 2) >> 2: the same floats as the general path in a third to a
 * quarter of the time (the frame's first-detection input: 3.7 → 0.9–1.4 ms on a 2-core EPYC).
 */
function averageBlocks(
  image: RgbImage, sx: number, cx: number, sy: number, cy: number, outW: number, outH: number,
  target: Float32Array, offset: number, tensorWidth: number, plane: number, first: number, mirrored: boolean,
): void {
  const { data: src, width: sw } = image;
  // Small integers as int32 (`| 0`): indices V8 keeps in registers rather than as doubles.
  const stride = (sw * 3) | 0;
  const x0 = Math.floor(cx) | 0;
  const y0 = Math.floor(cy) | 0;
  const stepX = (sx * 3) | 0;
  const stepY = sy | 0;
  const p0 = (offset + first * plane) | 0; // plane of source channel 0
  const p1 = (offset + plane) | 0;
  const p2 = (offset + (2 - first) * plane) | 0;
  for (let v = 0; v < outH; v += 1) {
    const top = ((y0 + stepY * v) * stride) | 0;
    const bottom = (top + stride) | 0;
    const row = (v * tensorWidth) | 0;
    let i = (x0 * 3) | 0;
    for (let u = 0; u < outW; u += 1, i += stepX) {
      const t = row + (mirrored ? outW - 1 - u : u);
      target[p0 + t] = (src[top + i]! + src[top + i + 3]! + src[bottom + i]! + src[bottom + i + 3]! + 2) >> 2;
      target[p1 + t] = (src[top + i + 1]! + src[top + i + 4]! + src[bottom + i + 1]! + src[bottom + i + 4]! + 2) >> 2;
      target[p2 + t] = (src[top + i + 2]! + src[top + i + 5]! + src[bottom + i + 2]! + src[bottom + i + 5]! + 2) >> 2;
    }
  }
}

function verticalPlanar(top: Float64Array, bottom: Float64Array, fy: number, target: Float32Array, t: number, plane: number, width: number, first: number, mirrored: boolean): void {
  planarChannel(top, bottom, fy, target, t, width, first, mirrored);
  planarChannel(top, bottom, fy, target, t + plane, width, 1, mirrored);
  planarChannel(top, bottom, fy, target, t + 2 * plane, width, 2 - first, mirrored);
}

/** One plane's row (source channel `k`): a loop per channel and direction, each with a fixed stride. */
function planarChannel(top: Float64Array, bottom: Float64Array, fy: number, target: Float32Array, t: number, width: number, k: number, mirrored: boolean): void {
  if (mirrored) {
    for (let u = 0, s = (width - 1) * 3 + k; u < width; u += 1, s -= 3) {
      const p = top[s];
      const x = p + (bottom[s] - p) * fy;
      target[t + u] = roundPixel(x);
    }
  } else {
    for (let u = 0, s = k; u < width; u += 1, s += 3) {
      const p = top[s];
      const x = p + (bottom[s] - p) * fy;
      target[t + u] = roundPixel(x);
    }
  }
}

/** Zeros the padding right of and below a width x height image in each of the three planes of a [3, tensorHeight, tensorWidth] tensor. */
export function zeroPadding(tensor: Float32Array, offset: number, width: number, height: number, tensorWidth: number, tensorHeight: number): void {
  const plane = tensorWidth * tensorHeight;
  for (let c = 0; c < 3; c += 1) {
    const base = offset + c * plane;
    if (width < tensorWidth) for (let y = 0; y < height; y += 1) tensor.fill(0, base + y * tensorWidth + width, base + (y + 1) * tensorWidth);
    tensor.fill(0, base + height * tensorWidth, base + plane);
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
  const values = new Float32Array(256);
  for (let c = 0; c < 3; c += 1) {
    const srcChannel = bgr ? 2 - c : c;
    const m = mean[c];
    const s = std[c];
    // A byte has 256 values: each one's float, computed as the per-pixel loop did, then looked up.
    for (let v = 0; v < 256; v += 1) values[v] = (v * scale - m) / s;
    planarChannelOf(data, srcChannel, values, target, offset + c * n, n);
  }
  return target;
}

function planarChannelOf(data: Uint8Array, channel: number, values: Float32Array, target: Float32Array, t: number, n: number): void {
  for (let i = 0, s = channel; i < n; i += 1, s += 3) target[t + i] = values[data[s]];
}

/**
 * Copies a planar [3, height, width] tensor at `from` to `to` as its mirror image (each row
 * reversed). For inputs computed per pixel (toPlanar), this is toPlanar of flipHorizontal's image.
 */
export function mirrorPlanar(tensor: Float32Array, from: number, to: number, width: number, height: number): void {
  for (let row = 0; row < 3 * height; row += 1) {
    tensor.copyWithin(to + row * width, from + row * width, from + (row + 1) * width);
    tensor.subarray(to + row * width, to + (row + 1) * width).reverse();
  }
}

/** Luminance (Rec. 601) as floats 0..255. */
export function toGray(image: RgbImage): Float32Array {
  const n = image.width * image.height;
  const gray = new Float32Array(n);
  const { data } = image;
  for (let i = 0; i < n; i += 1) gray[i] = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
  return gray;
}
