// YuNet face detection: builds the input tensor and decodes the raw outputs into boxes with five
// landmarks, following the preprocessing recorded in /work/shared/models/MANIFEST.md.
import { cropResizePlanar, zeroPadding, type RgbImage } from './pixels.ts';

export interface Box { x: number; y: number; width: number; height: number }
export interface Detection {
  box: Box;
  /** Right eye, left eye, nose, right mouth corner, left mouth corner (image-left first). */
  landmarks: Array<[number, number]>;
  score: number;
}

export interface DetectorInput {
  tensor: Float32Array;
  /** Tensor width and height (multiples of 32). */
  width: number;
  height: number;
  /** Source pixels per tensor pixel: multiply decoded coordinates by this. */
  scale: number;
}

/**
 * Scales the image so its long side is at most `size`, and pads right/bottom to multiples of 32
 * (the dynamic YuNet accepts any such size; padding with black changes nothing on the left/top,
 * so coordinates only need the scale undone).
 */
export function detectorInput(image: RgbImage, { size = 640, allocate }: { size?: number; allocate?: (length: number) => Float32Array } = {}): DetectorInput {
  const scale = Math.max(1, Math.max(image.width, image.height) / size);
  const w = Math.max(1, Math.round(image.width / scale));
  const h = Math.max(1, Math.round(image.height / scale));
  const width = Math.ceil(w / 32) * 32;
  const height = Math.ceil(h / 32) * 32;
  const target = allocate?.(3 * width * height);
  const tensor = scale === 1
    ? planarBgr(image, width, height, target)
    : cropResizePlanar(image, { x: 0, y: 0, width: image.width, height: image.height }, w, h, { bgr: true, tensorWidth: width, tensorHeight: height, tensor: target });
  return { tensor, width, height, scale };
}

/**
 * YuNet's input: BGR, raw 0..255, planar, padded with black right/bottom to width x height.
 * Every element of `target` is written, padding included (it may hold an earlier picture).
 */
export function planarBgr(image: RgbImage, width = image.width, height = image.height, target?: Float32Array): Float32Array {
  const { data, width: w, height: h } = image;
  const tensor = target ?? new Float32Array(3 * width * height);
  const plane = width * height;
  const blue = tensor.subarray(0, plane);
  const green = tensor.subarray(plane, 2 * plane);
  const red = tensor.subarray(2 * plane);
  // Without padding the rows are contiguous in both layouts: one run over all pixels.
  if (w === width && LITTLE_ENDIAN && data.byteOffset % 4 === 0) bgrWords(data, blue, green, red, w * h);
  else if (w === width) bgrRow(data, 0, blue, green, red, 0, w * h);
  else for (let y = 0; y < h; y += 1) bgrRow(data, y * w * 3, blue, green, red, y * width, w);
  if (target) zeroPadding(tensor, 0, w, h, width, height);
  return tensor;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * bgrRow over a whole picture, reading four pixels as three 32-bit words (one load where there
 * were four): the 640x480 frame's conversion took 1.24 ms of CPU with byte loads, 0.78 ms with words.
 * Little-endian only (byte 0 is the word's low byte), from a 4-byte-aligned start.
 */
function bgrWords(data: Uint8Array, blue: Float32Array, green: Float32Array, red: Float32Array, n: number): void {
  const words = new Uint32Array(data.buffer, data.byteOffset, Math.floor(data.length / 4));
  let t = 0;
  for (let s = 0; t + 4 <= n; t += 4, s += 3) {
    const a = words[s], b = words[s + 1], c = words[s + 2];
    red[t] = a & 255; green[t] = (a >>> 8) & 255; blue[t] = (a >>> 16) & 255;
    red[t + 1] = a >>> 24; green[t + 1] = b & 255; blue[t + 1] = (b >>> 8) & 255;
    red[t + 2] = (b >>> 16) & 255; green[t + 2] = b >>> 24; blue[t + 2] = c & 255;
    red[t + 3] = (c >>> 8) & 255; green[t + 3] = (c >>> 16) & 255; blue[t + 3] = c >>> 24;
  }
  bgrRow(data, t * 3, blue, green, red, t, n - t); // the last pixels, fewer than four
}

/** `n` pixels from byte `s` into the planes at `t` (a function of its own, so V8 optimises it whole). */
function bgrRow(data: Uint8Array, s: number, blue: Float32Array, green: Float32Array, red: Float32Array, t: number, n: number): void {
  for (const end = t + n; t < end; t += 1, s += 3) {
    blue[t] = data[s + 2];
    green[t] = data[s + 1];
    red[t] = data[s];
  }
}

export interface TensorLike { data: ArrayLike<number> }

/** Decodes YuNet's per-stride outputs (cls_s, obj_s, bbox_s, kps_s), then applies NMS. */
export function decodeDetections(
  outputs: Record<string, TensorLike>,
  input: Pick<DetectorInput, 'width' | 'height' | 'scale'>,
  { scoreThreshold = 0.6, nmsThreshold = 0.3, topK = 50 }: { scoreThreshold?: number; nmsThreshold?: number; topK?: number } = {},
): Detection[] {
  const found: Detection[] = [];
  for (const stride of [8, 16, 32]) {
    const cols = input.width / stride;
    const rows = input.height / stride;
    const cls = outputs[`cls_${stride}`].data;
    const obj = outputs[`obj_${stride}`].data;
    const bbox = outputs[`bbox_${stride}`].data;
    const kps = outputs[`kps_${stride}`].data;
    for (let row = 0; row < rows; row += 1) {
      for (let col = 0; col < cols; col += 1) {
        const i = row * cols + col;
        const c = Math.min(1, Math.max(0, cls[i]));
        const o = Math.min(1, Math.max(0, obj[i]));
        const score = Math.sqrt(c * o);
        if (score < scoreThreshold) continue;
        const cx = (col + bbox[i * 4]) * stride;
        const cy = (row + bbox[i * 4 + 1]) * stride;
        const w = Math.exp(bbox[i * 4 + 2]) * stride;
        const h = Math.exp(bbox[i * 4 + 3]) * stride;
        const s = input.scale;
        const landmarks: Array<[number, number]> = [];
        for (let k = 0; k < 5; k += 1) {
          landmarks.push([(col + kps[i * 10 + 2 * k]) * stride * s, (row + kps[i * 10 + 2 * k + 1]) * stride * s]);
        }
        found.push({ box: { x: (cx - w / 2) * s, y: (cy - h / 2) * s, width: w * s, height: h * s }, landmarks, score });
      }
    }
  }
  return nonMaximumSuppression(found, nmsThreshold).slice(0, topK);
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy NMS: keeps the best-scoring box of every overlapping group, best first. */
export function nonMaximumSuppression(detections: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((p, q) => q.score - p.score);
  const kept: Detection[] = [];
  for (const candidate of sorted) {
    if (kept.every((k) => intersectionOverUnion(k.box, candidate.box) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}
