// Similarity between two templates. Embeddings from different models live in unrelated spaces, so
// a comparison across models would produce a number with no meaning: it is refused.
import { FaceTemplateError } from './errors.ts';

export interface ModelEmbedding {
  model: string;
  embedding: Float32Array;
}

/** Cosine similarity; for L2-normalised embeddings this is their dot product. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export function compareTemplates(a: ModelEmbedding, b: ModelEmbedding): number {
  if (a.model !== b.model) {
    throw new FaceTemplateError('face_template_model_mismatch', `cannot compare a "${a.model}" embedding with a "${b.model}" template: re-enrol with the current model`);
  }
  if (a.embedding.length !== b.embedding.length) {
    throw new FaceTemplateError('face_template_model_mismatch', 'the embeddings have different sizes');
  }
  return cosine(a.embedding, b.embedding);
}
