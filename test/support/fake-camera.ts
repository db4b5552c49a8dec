// A fake camera for Chromium: a .y4m video made with ffmpeg from still photos (each shown for a
// few seconds, optionally mirrored), and a browser launched to play it as its webcam. Recipe and
// caveats in /work/shared/BROWSER-TESTING.md; the files are large, so they go to a temp dir and
// are never committed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const run = promisify(execFile);

export interface Still {
  /** A JPEG/PNG file. */
  image: string;
  seconds: number;
  /** Flip horizontally: a head turned to one side then turns to the other. */
  mirror?: boolean;
}

/** Writes `out` (.y4m, 640x480, yuv420p) showing the stills in order; the browser loops it. */
export async function makeY4m(out: string, stills: Still[], { fps = 10 } = {}): Promise<string> {
  if (stills.length === 0) throw new Error('makeY4m needs at least one still');
  const inputs = stills.flatMap((s) => ['-loop', '1', '-t', String(s.seconds), '-i', s.image]);
  const chains = stills.map((s, i) => `[${i}]fps=${fps},${s.mirror ? 'hflip,' : ''}scale=480:480,pad=640:480:80:0:black,format=yuv420p,setsar=1[v${i}]`);
  const concat = `${stills.map((_, i) => `[v${i}]`).join('')}concat=n=${stills.length}:v=1[v]`;
  await run('ffmpeg', ['-y', '-loglevel', 'error', ...inputs, '-filter_complex', [...chains, concat].join(';'), '-map', '[v]', '-r', String(fps), '-pix_fmt', 'yuv420p', out]);
  return out;
}

/** Chromium whose camera plays `y4m` (one file per launch), with the permission prompt answered yes. */
export async function launchWithCamera(y4m: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
    ],
  });
}
