// An evaluation picture turned into what the camera page uploads: a 640x480 webcam frame (the photo
// scaled to 480x480 in the middle of a black canvas), JPEG quality 90. Research photos are tight
// crops; sign-in frames show a smaller face in a wider picture, which changes what the first
// detection sees. In memory only: raw face images are never written to disk.
import sharp from 'sharp';

export const CAMERA_FRAME = { width: 640, height: 480, photo: 480, left: 80, top: 0, quality: 90 } as const;

export async function asCameraFrame(bytes: Uint8Array): Promise<Buffer> {
  const { width, height, photo, left, top, quality } = CAMERA_FRAME;
  const scaled = await sharp(bytes).resize(photo, photo).toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([{ input: scaled, left, top }])
    .jpeg({ quality })
    .toBuffer();
}
