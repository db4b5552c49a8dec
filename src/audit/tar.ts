// A minimal, strict ustar writer and reader for export archives. The reader accepts only what the
// writer makes (checksums right, padding zero, two zero blocks at the end, nothing after), so
// changing any byte of an archive is caught even where the byte is not part of a signed file.
import type { FileHandle } from 'node:fs/promises';
import { FacetError } from '../errors/facet-error.ts';

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarHeader(name: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar entry name too long: ${name}`);
  const header = Buffer.alloc(BLOCK, 0);
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(mtime, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

export const tarPadding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
export const tarEnd = () => Buffer.alloc(BLOCK * 2, 0);

export interface TarEntry {
  name: string;
  offset: number;
  size: number;
}

export class ArchiveError extends FacetError {
  readonly code = 'archive_damaged';
}

/** Lists the entries of an archive, checking its structure; file contents are read separately. */
export async function readTarEntries(file: FileHandle): Promise<TarEntry[]> {
  const { size: total } = await file.stat();
  const entries: TarEntry[] = [];
  let position = 0;
  const header = Buffer.alloc(BLOCK);
  for (;;) {
    if (position + BLOCK > total) throw new ArchiveError('the archive ends inside a header (truncated)');
    await file.read(header, 0, BLOCK, position);
    if (header.every((b) => b === 0)) {
      // End: a second zero block, then nothing.
      if (position + 2 * BLOCK !== total) throw new ArchiveError('unexpected bytes after the end of the archive');
      await file.read(header, 0, BLOCK, position + BLOCK);
      if (!header.every((b) => b === 0)) throw new ArchiveError('the archive end marker was altered');
      return entries;
    }
    const name = header.subarray(0, 100).toString('utf8').replace(/\0+$/, '');
    const sizeText = header.subarray(124, 136).toString('ascii');
    if (!/^[0-7]{11}\0$/.test(sizeText)) throw new ArchiveError(`tar header of ${JSON.stringify(name)} is damaged (size)`);
    const size = parseInt(sizeText.slice(0, 11), 8);
    const mtimeText = header.subarray(136, 148).toString('ascii');
    if (!/^[0-7]{11}\0$/.test(mtimeText)) throw new ArchiveError(`tar header of ${JSON.stringify(name)} is damaged (mtime)`);
    let expected: Buffer | null = null;
    try {
      expected = tarHeader(name, size, parseInt(mtimeText.slice(0, 11), 8));
    } catch {
      expected = null;
    }
    if (!expected || !expected.equals(header)) throw new ArchiveError(`tar header of ${JSON.stringify(name)} was altered (it is not the header Facet writes)`);
    const offset = position + BLOCK;
    if (offset + size > total) throw new ArchiveError(`${name} is truncated`);
    const padding = tarPadding(size).length;
    if (padding > 0) {
      const pad = Buffer.alloc(padding);
      await file.read(pad, 0, padding, offset + size);
      if (!pad.every((b) => b === 0)) throw new ArchiveError(`the padding after ${name} was altered`);
    }
    entries.push({ name, offset, size });
    position = offset + size + padding;
  }
}
