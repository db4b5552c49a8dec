// Passive presentation-attack detection with Silent-Face-Anti-Spoofing's MiniFASNet pair: each
// model sees the face box scaled around its centre (2.7x for V2, 4.0x for V1SE) resized to 80x80,
// BGR raw 0..255; the softmaxes are averaged and class 1 is "real".
import type { Box } from './detect.ts';
import { cropResizePlanar, type RgbImage } from './pixels.ts';

/** The crop Silent-Face uses: the scaled box, shrunk to fit and shifted to stay inside the image. */
export function livenessCrop(box: Box, imageWidth: number, imageHeight: number, scale: number): Box {
  const s = Math.min((imageHeight - 1) / box.height, (imageWidth - 1) / box.width, scale);
  const width = box.width * s;
  const height = box.height * s;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let left = cx - width / 2, top = cy - height / 2, right = cx + width / 2, bottom = cy + height / 2;
  if (left < 0) { right -= left; left = 0; }
  if (top < 0) { bottom -= top; top = 0; }
  if (right > imageWidth - 1) { left -= right - imageWidth + 1; right = imageWidth - 1; }
  if (bottom > imageHeight - 1) { top -= bottom - imageHeight + 1; bottom = imageHeight - 1; }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

export function livenessInput(image: RgbImage, box: Box, scale: number): Float32Array {
  return cropResizePlanar(image, livenessCrop(box, image.width, image.height, scale), 80, 80, { bgr: true });
}

export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((p, q) => p + q, 0);
  return exps.map((e) => e / sum);
}

/** Mean probability of class 1 ("real") over the models' logits. */
export function passiveScore(logitsPerModel: Array<ArrayLike<number>>): number {
  const probs = logitsPerModel.map((logits) => softmax(logits)[1]);
  return probs.reduce((p, q) => p + q, 0) / probs.length;
}
