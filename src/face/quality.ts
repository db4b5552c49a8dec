// Image-quality measures on the aligned face: brightness (mean luminance) and sharpness (variance
// of the Laplacian). Measured on the aligned 112x112 crop so the figures do not depend on how big
// the face was in the picture.
import { toGray, type RgbImage } from './pixels.ts';

export interface FaceImageStats {
  /** Mean luminance of the central face region, 0..255. */
  brightness: number;
  /** Variance of the 4-neighbour Laplacian over the central face region. */
  sharpness: number;
}

/** Central region of the 112x112 ArcFace crop: eyes to chin, little background. */
const REGION = { x0: 24, y0: 32, x1: 88, y1: 104 };

export function faceImageStats(aligned: RgbImage): FaceImageStats {
  const gray = toGray(aligned);
  const w = aligned.width;
  const scale = w / 112;
  const x0 = Math.round(REGION.x0 * scale), x1 = Math.round(REGION.x1 * scale);
  const y0 = Math.round(REGION.y0 * scale), y1 = Math.round(REGION.y1 * scale);
  let sum = 0, count = 0, lapSum = 0, lapSq = 0;
  for (let y = y0; y < y1; y += 1) {
    for (let x = x0; x < x1; x += 1) {
      const i = y * w + x;
      sum += gray[i];
      const lap = gray[i - 1] + gray[i + 1] + gray[i - w] + gray[i + w] - 4 * gray[i];
      lapSum += lap;
      lapSq += lap * lap;
      count += 1;
    }
  }
  const lapMean = lapSum / count;
  return { brightness: sum / count, sharpness: lapSq / count - lapMean * lapMean };
}

/** Linear ramp: 0 at `low`, 1 at `high`. */
function ramp(value: number, low: number, high: number): number {
  if (!(high > low)) return value >= low ? 1 : 0; // a threshold configured to 0 disables its term
  return Math.min(1, Math.max(0, (value - low) / (high - low)));
}

export interface QualityThresholds { minBrightness: number; minSharpness: number; maxYaw: number; maxPitch: number; minFaceSize: number }

/**
 * One 0..1 figure for "how good is this picture for matching": the product of ramps for detector
 * confidence, brightness, sharpness, frontal pose and face size, each 0 at its rejection threshold
 * and 1 at a comfortable margin above it.
 */
export function qualityScore(
  { score, stats, yaw, pitch, faceSize }: { score: number; stats: FaceImageStats; yaw: number; pitch: number; faceSize: number },
  t: QualityThresholds,
): number {
  return (
    ramp(score, 0.5, 0.9) *
    ramp(stats.brightness, t.minBrightness, t.minBrightness * 2) *
    ramp(stats.sharpness, t.minSharpness, t.minSharpness * 3) *
    (1 - ramp(Math.abs(yaw), t.maxYaw / 3, t.maxYaw * 1.5)) *
    (1 - ramp(Math.abs(pitch), t.maxPitch / 3, t.maxPitch * 1.5)) *
    ramp(faceSize, t.minFaceSize * 0.8, t.minFaceSize * 2)
  );
}
