// LFW's pairs.txt: per fold, matched pairs `Name<TAB>i<TAB>j` then mismatched pairs
// `NameA<TAB>i<TAB>NameB<TAB>j`. An optional header line "<folds><TAB><pairs>" (the original view-2
// file has one; the dev split does not) is skipped.
import path from 'node:path';
import { FacetError } from '../../errors/facet-error.ts';

export interface FacePair {
  fold: number;
  genuine: boolean;
  a: string;
  b: string;
}

export class PairsFileError extends FacetError {
  readonly code = 'face_eval_bad_pairs_file';
  constructor(message: string) {
    super(message);
    this.name = 'PairsFileError';
  }
}

export function lfwImagePath(name: string, index: string): string {
  const number = Number(index);
  if (!/^[\w.'-]+$/.test(name) || !Number.isInteger(number) || number < 1) throw new PairsFileError(`not an LFW image reference: ${name} ${index}`);
  return path.join(name, `${name}_${String(number).padStart(4, '0')}.jpg`);
}

/** Parses the file and splits it into `folds` consecutive folds of equal size. */
export function parsePairs(text: string, { folds = 5 }: { folds?: number } = {}): FacePair[] {
  let lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines[0] && /^\d+\s+\d+$/.test(lines[0].trim())) lines = lines.slice(1);
  if (lines.length === 0 || lines.length % folds !== 0) {
    throw new PairsFileError(`${lines.length} pairs cannot be split into ${folds} equal folds`);
  }
  const perFold = lines.length / folds;
  return lines.map((line, index) => {
    const fields = line.trim().split(/\t|\s+/);
    const fold = Math.floor(index / perFold);
    if (fields.length === 3) return { fold, genuine: true, a: lfwImagePath(fields[0]!, fields[1]!), b: lfwImagePath(fields[0]!, fields[2]!) };
    if (fields.length === 4) return { fold, genuine: false, a: lfwImagePath(fields[0]!, fields[1]!), b: lfwImagePath(fields[2]!, fields[3]!) };
    throw new PairsFileError(`line ${index + 1} has ${fields.length} fields; expected 3 (matched) or 4 (mismatched)`);
  });
}

/** A smaller, still balanced, protocol: the first n/2 matched and n/2 mismatched pairs of each fold. */
export function subsetPairs(pairs: FacePair[], perFold: number): FacePair[] {
  const half = Math.floor(perFold / 2);
  const taken = new Map<string, number>();
  return pairs.filter((pair) => {
    const key = `${pair.fold}:${pair.genuine}`;
    const count = taken.get(key) ?? 0;
    if (count >= half) return false;
    taken.set(key, count + 1);
    return true;
  });
}
