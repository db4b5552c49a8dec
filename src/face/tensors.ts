// Float buffers for the detector's inputs, reused from one analysis to the next. A 640x480 frame's
// input is 3.7 MB and the refine crop's 3.1 MB: allocating them fresh for every picture costs their
// zeroing, a page fault per 4 KiB on first write and the collector's time to free them, about as
// much as filling them. A borrowed buffer holds the previous picture's values: whoever borrows it
// writes every element (padding included) before use, and returns it once the model has run.
const spare: Float32Array[] = [];
/** Buffers kept (one per thread: each worker has its own module state): a frame's input and a crop's, with room for another size. */
const KEEP = 4;

export function borrowTensor(length: number): Float32Array {
  const i = spare.findIndex((buffer) => buffer.length === length);
  return i >= 0 ? spare.splice(i, 1)[0]! : new Float32Array(length);
}

export function returnTensor(buffer: Float32Array): void {
  spare.push(buffer);
  if (spare.length > KEEP) spare.shift();
}
