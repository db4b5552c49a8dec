// A secret rotation of embedding space, derived from a 32-byte seed. Rotations preserve dot
// products, so cosine search over rotated vectors finds exactly what it would over the originals,
// but the stored vectors no longer line up with the public model's space (or another tenant's).
// Pure maths: no I/O, no imports of ours.
import { createCipheriv } from 'node:crypto';

/** Deterministic standard normals from the seed: AES-256-CTR keystream → uniforms → Box–Muller. */
function gaussians(seed: Uint8Array, count: number): Float64Array {
  const stream = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16));
  const bytes = stream.update(Buffer.alloc(count * 8 + 16));
  const out = new Float64Array(count);
  const uniform = (i: number) => {
    // 53 random bits → (0, 1]; never 0, so the logarithm below is finite.
    const hi = bytes.readUInt32BE(i * 8) >>> 5;
    const lo = bytes.readUInt32BE(i * 8 + 4) >>> 6;
    return (hi * 67108864 + lo + 1) / 9007199254740992;
  };
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform(i)));
    const theta = 2 * Math.PI * uniform(i + 1);
    out[i] = r * Math.cos(theta);
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

/**
 * A size×size orthogonal matrix, row-major: Gaussian entries orthonormalised row by row (modified
 * Gram–Schmidt, twice for numerical safety). Haar-distributed up to the sign convention.
 */
export function orthogonalMatrixFromSeed(seed: Uint8Array, size = 128): Float64Array {
  if (seed.length !== 32) throw new RangeError('the rotation seed must be 32 bytes');
  const m = gaussians(seed, size * size);
  for (let i = 0; i < size; i++) {
    const row = i * size;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const other = j * size;
        let dot = 0;
        for (let k = 0; k < size; k++) dot += m[row + k]! * m[other + k]!;
        for (let k = 0; k < size; k++) m[row + k]! -= dot * m[other + k]!;
      }
    }
    let norm = 0;
    for (let k = 0; k < size; k++) norm += m[row + k]! * m[row + k]!;
    norm = Math.sqrt(norm);
    for (let k = 0; k < size; k++) m[row + k]! /= norm;
  }
  return m;
}

export function rotate(matrix: Float64Array, vector: Float32Array): Float32Array {
  const size = vector.length;
  if (matrix.length !== size * size) throw new RangeError('the vector does not fit the rotation');
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let sum = 0;
    const row = i * size;
    for (let k = 0; k < size; k++) sum += matrix[row + k]! * vector[k]!;
    out[i] = sum;
  }
  return out;
}
