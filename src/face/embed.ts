// The embedder's input and output handling. Each embedder in models/manifest.json names its
// preprocessing (`preprocess`: channel order, scale, per-channel mean and std), so another model
// (SFace: RGB, raw 0..255) runs through the same pipeline; the default is MobileFaceNet's (foamliu):
// RGB, /255, ImageNet mean/std. The output is L2-normalised so that cosine similarity is a dot product.
import { toPlanar, type RgbImage } from './pixels.ts';

/** How an aligned 112x112 RGB face becomes the embedder's planar float input: (x·scale − mean) / std. */
export interface EmbedderPreprocess {
  channelOrder: 'RGB' | 'BGR';
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export const MOBILEFACENET_PREPROCESS: EmbedderPreprocess = { channelOrder: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export function embedderInput(aligned: RgbImage, target?: Float32Array, offset = 0, preprocess: EmbedderPreprocess = MOBILEFACENET_PREPROCESS): Float32Array {
  const { channelOrder, scale, mean, std } = preprocess;
  return toPlanar(aligned, { bgr: channelOrder === 'BGR', scale, mean, std }, target, offset);
}

export function l2Normalise(vector: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i += 1) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum) || 1;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) out[i] = vector[i] / norm;
  return out;
}
