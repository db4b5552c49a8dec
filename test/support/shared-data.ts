// Where the shared test material lives (never committed: see ../shared/MANIFEST files). CI sets
// the variables; by default the folder beside the project is used.
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../..');

export const modelsDir = process.env.FACET_MODELS_DIR ?? path.resolve(projectRoot, '../shared/models');
export const faceDataDir = process.env.FACET_FACE_DATA_DIR ?? path.resolve(projectRoot, '../shared/data/lfw-dev');
export const vectorsDir = process.env.FACET_VECTORS_DIR ?? path.resolve(projectRoot, '../shared/vectors');
