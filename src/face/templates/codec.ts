// The plaintext inside a template's Fernet token. Besides the embedding (float32 little-endian) it
// carries the owner's user id and the model name: Fernet has no associated data, and without this
// binding anyone able to write the table could copy their own template into a victim's row and
// then pass the victim's face check with their own face.
//
//   0x01 | user id (16 bytes) | model name length (1) | model name (UTF-8) | float32 LE × n
import { FaceTemplateError } from './errors.ts';

const FORMAT = 0x01;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TemplatePlaintext {
  userId: string;
  model: string;
  embedding: Float32Array;
}

export function assertUuid(userId: string): void {
  if (typeof userId !== 'string' || !UUID.test(userId)) {
    throw new FaceTemplateError('face_template_invalid_user', 'the user id is not a UUID');
  }
}

export function assertEmbedding(embedding: Float32Array): void {
  if (!(embedding instanceof Float32Array) || embedding.length === 0 || embedding.length > 4096) {
    throw new FaceTemplateError('face_template_invalid_embedding', 'the embedding must be a non-empty Float32Array');
  }
  let norm = 0;
  for (const value of embedding) {
    if (!Number.isFinite(value)) throw new FaceTemplateError('face_template_invalid_embedding', 'the embedding contains a non-finite value');
    norm += value * value;
  }
  if (norm === 0) throw new FaceTemplateError('face_template_invalid_embedding', 'the embedding is all zeros');
}

export function encodeTemplate({ userId, model, embedding }: TemplatePlaintext): Uint8Array {
  assertUuid(userId);
  assertEmbedding(embedding);
  const modelBytes = Buffer.from(model, 'utf8');
  if (modelBytes.length === 0 || modelBytes.length > 255) {
    throw new FaceTemplateError('face_template_invalid_embedding', 'the model name must be 1 to 255 bytes');
  }
  const out = Buffer.alloc(1 + 16 + 1 + modelBytes.length + embedding.length * 4);
  out[0] = FORMAT;
  Buffer.from(userId.replaceAll('-', ''), 'hex').copy(out, 1);
  out[17] = modelBytes.length;
  modelBytes.copy(out, 18);
  const view = new DataView(out.buffer, out.byteOffset + 18 + modelBytes.length);
  embedding.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return out;
}

export function decodeTemplate(bytes: Uint8Array): TemplatePlaintext {
  const fail = () => new FaceTemplateError('face_template_integrity', 'a stored face template is malformed');
  if (bytes.length < 18 || bytes[0] !== FORMAT) throw fail();
  const hex = Buffer.from(bytes.subarray(1, 17)).toString('hex');
  const userId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const modelLength = bytes[17]!;
  const start = 18 + modelLength;
  if (bytes.length < start || (bytes.length - start) % 4 !== 0 || bytes.length === start) throw fail();
  const model = Buffer.from(bytes.subarray(18, start)).toString('utf8');
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
  const embedding = new Float32Array((bytes.length - start) / 4);
  for (let i = 0; i < embedding.length; i++) embedding[i] = view.getFloat32(i * 4, true);
  return { userId, model, embedding };
}
