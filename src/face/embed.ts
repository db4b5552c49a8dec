// MobileFaceNet (foamliu) input and output handling: RGB, /255, ImageNet mean/std; the output is
// L2-normalised so that cosine similarity is a dot product.
import { toPlanar, type RgbImage } from './pixels.ts';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export function embedderInput(aligned: RgbImage, target?: Float32Array, offset = 0): Float32Array {
  return toPlanar(aligned, { scale: 1 / 255, mean: MEAN, std: STD }, target, offset);
}

export function l2Normalise(vector: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i += 1) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum) || 1;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) out[i] = vector[i] / norm;
  return out;
}
