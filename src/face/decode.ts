// Decodes an uploaded picture into raw RGB pixels with sharp, refusing anything that is not a
// plain JPEG/PNG/WebP of sane size. Format is recognised by content, and the pixel limit is
// checked from the header before any pixel is decoded (a 20000x20000 PNG costs a few bytes to send).
import sharp, { type Metadata } from 'sharp';
import { FaceRejected } from './errors.ts';
import type { RgbImage } from './pixels.ts';

export interface DecodedImage extends RgbImage {
  /** Pixels of the (EXIF-rotated) original per pixel of `data`: multiply coordinates by this. */
  scale: number;
}

export interface DecodeOptions {
  /** Largest accepted file, in bytes. */
  maxBytes?: number;
  /** Largest accepted width x height of the encoded image. */
  maxPixels?: number;
  /** Images are shrunk so their long side is at most this; detection and alignment run on the result. */
  workingSize?: number;
}

export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 4096 * 4096;

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** Recognises the three accepted formats by their magic bytes. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return undefined;
}

export async function decodeImage(
  input: Uint8Array,
  { maxBytes = DEFAULT_MAX_BYTES, maxPixels = DEFAULT_MAX_PIXELS, workingSize = 1280 }: DecodeOptions = {},
): Promise<DecodedImage> {
  if (input.byteLength > maxBytes) throw new FaceRejected('image_too_large');
  const format = sniffFormat(input);
  if (!format) throw new FaceRejected('image_unsupported_format');

  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new FaceRejected('image_corrupt', { cause });
  }
  // The magic bytes and libvips must agree (e.g. a RIFF container that is not really WebP).
  if (metadata.format !== format) throw new FaceRejected('image_unsupported_format');
  if (!metadata.width || !metadata.height) throw new FaceRejected('image_corrupt');
  if (metadata.width * metadata.height > maxPixels) throw new FaceRejected('image_too_many_pixels');

  try {
    const { data, info } = await sharp(input, { failOn: 'truncated', limitInputPixels: maxPixels, pages: 1 })
      .rotate() // apply EXIF orientation
      .resize({ width: workingSize, height: workingSize, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    // EXIF rotation swaps width and height but not the long side, so the scale is the same either way.
    const originalLong = Math.max(metadata.width, metadata.height);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      scale: originalLong / Math.max(info.width, info.height),
    };
  } catch (cause) {
    if (cause instanceof FaceRejected) throw cause;
    // libvips' own pixel limit (limitInputPixels above) is a second guard only: the header check
    // before it compares the same width x height with the same limit, so an over-limit picture is
    // refused there as image_too_many_pixels (test/face/pipeline-units.test.ts).
    throw new FaceRejected('image_corrupt', { cause });
  }
}
