// Aligns a face to the 112x112 ArcFace template with the least-squares similarity transform
// (Umeyama without reflection) from the five detected landmarks.
import { warpAffine, type Affine, type RgbImage } from './pixels.ts';

export const ARCFACE_TEMPLATE: ReadonlyArray<readonly [number, number]> = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

export interface Similarity {
  /** dst = [[a, -b], [b, a]] * src + [tx, ty] */
  a: number; b: number; tx: number; ty: number;
}

/** Least-squares similarity mapping `src` points onto `dst` points. */
export function estimateSimilarity(src: ReadonlyArray<readonly [number, number]>, dst: ReadonlyArray<readonly [number, number]>): Similarity {
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i += 1) {
    sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let norm = 0, dot = 0, cross = 0;
  for (let i = 0; i < n; i += 1) {
    const px = src[i][0] - sx, py = src[i][1] - sy;
    const qx = dst[i][0] - dx, qy = dst[i][1] - dy;
    norm += px * px + py * py;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
  }
  if (norm === 0) throw new RangeError('degenerate landmarks');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/** The inverse map (output pixel → source position) that warpAffine needs. */
export function invertSimilarity({ a, b, tx, ty }: Similarity): Affine {
  const k = a * a + b * b;
  const ia = a / k, ib = b / k;
  // inverse of [[a,-b],[b,a]] is [[a, b],[-b, a]] / k
  return { a: ia, b: ib, c: -(ia * tx + ib * ty), d: -ib, e: ia, f: -(-ib * tx + ia * ty) };
}

export function alignFace(image: RgbImage, landmarks: ReadonlyArray<readonly [number, number]>, size = 112): RgbImage {
  const template = ARCFACE_TEMPLATE.map(([x, y]) => [(x * size) / 112, (y * size) / 112] as const);
  return warpAffine(image, invertSimilarity(estimateSimilarity(landmarks, template)), size, size);
}
