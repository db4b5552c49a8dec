// The plaintext inside a template's Fernet token. Besides the embedding (float32 little-endian) it
// carries the owner's user id and the model name: Fernet has no associated data, and without this
// binding anyone able to write the table could copy their own template into a victim's row and
// then pass the victim's face check with their own face.
//
//   0x02 | user id (16 bytes) | pipeline version (1) | model name length (1) | model name (UTF-8) | float32 LE × n
//
// Format 0x01 (before templates recorded their pipeline version) has no version byte and is read
// as pipeline version 1; new tokens are always 0x02, so the version is bound like the user id.
import { FaceTemplateError } from './errors.ts';

const FORMAT_V1 = 0x01;
const FORMAT = 0x02;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TemplatePlaintext {
  userId: string;
  model: string;
  /** The face pipeline version that made the embedding (src/face/pipeline.ts). */
  pipelineVersion: number;
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

export function encodeTemplate({ userId, model, pipelineVersion, embedding }: TemplatePlaintext): Uint8Array {
  assertUuid(userId);
  assertEmbedding(embedding);
  if (!Number.isInteger(pipelineVersion) || pipelineVersion < 1 || pipelineVersion > 255) {
    throw new FaceTemplateError('face_template_invalid_embedding', 'the pipeline version must be an integer from 1 to 255');
  }
  const modelBytes = Buffer.from(model, 'utf8');
  if (modelBytes.length === 0 || modelBytes.length > 255) {
    throw new FaceTemplateError('face_template_invalid_embedding', 'the model name must be 1 to 255 bytes');
  }
  const out = Buffer.alloc(1 + 16 + 1 + 1 + modelBytes.length + embedding.length * 4);
  out[0] = FORMAT;
  Buffer.from(userId.replaceAll('-', ''), 'hex').copy(out, 1);
  out[17] = pipelineVersion;
  out[18] = modelBytes.length;
  modelBytes.copy(out, 19);
  const view = new DataView(out.buffer, out.byteOffset + 19 + modelBytes.length);
  embedding.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return out;
}

export function decodeTemplate(bytes: Uint8Array): TemplatePlaintext {
  const fail = () => new FaceTemplateError('face_template_integrity', 'a stored face template is malformed');
  if (bytes.length < 18 || (bytes[0] !== FORMAT && bytes[0] !== FORMAT_V1)) throw fail();
  const hex = Buffer.from(bytes.subarray(1, 17)).toString('hex');
  const userId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const versioned = bytes[0] === FORMAT;
  const pipelineVersion = versioned ? bytes[17]! : 1;
  const header = versioned ? 18 : 17;
  if (bytes.length < header + 1 || pipelineVersion === 0) throw fail();
  const modelLength = bytes[header]!;
  const start = header + 1 + modelLength;
  if (bytes.length < start || (bytes.length - start) % 4 !== 0 || bytes.length === start) throw fail();
  const model = Buffer.from(bytes.subarray(header + 1, start)).toString('utf8');
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.length - start);
  const embedding = new Float32Array((bytes.length - start) / 4);
  for (let i = 0; i < embedding.length; i++) embedding[i] = view.getFloat32(i * 4, true);
  return { userId, model, pipelineVersion, embedding };
}

/** The token format before pipeline versions (0x01): only for tests that need a template as old code wrote it. */
export function encodeTemplateV1({ userId, model, embedding }: Omit<TemplatePlaintext, 'pipelineVersion'>): Uint8Array {
  const current = encodeTemplate({ userId, model, pipelineVersion: 1, embedding });
  const out = Buffer.alloc(current.length - 1);
  out[0] = FORMAT_V1;
  Buffer.from(current.subarray(1, 17)).copy(out, 1);
  Buffer.from(current.subarray(18)).copy(out, 17);
  return out;
}
