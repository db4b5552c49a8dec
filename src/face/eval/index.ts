// Measured accuracy of the face engine: LFW pairs protocol, all-against-all error rates, DET plot.
export { runFaceEval, EVAL_ENGINE_OPTIONS, type FaceEvalReport, type RunFaceEvalOptions } from './run.ts';
export { evaluatePairs, type EvaluatePairsOptions, type PairsEvaluation } from './evaluate-pairs.ts';
export { evaluateAllAgainstAll, SHIPPED_FMR, type AllAgainstAllEvaluation, type EvaluateAllOptions } from './evaluate-all.ts';
export { asCameraFrame, CAMERA_FRAME } from './camera-frame.ts';
export { EVAL_ANALYZE_OPTIONS, type EmbeddingCache, type EvalEngine } from './embed-images.ts';
export { renderDetPng, renderDetSvg, type DetSeries } from './det-plot.ts';
export { formatAllReport, formatPairsReport } from './report.ts';
export * from './metrics.ts';
export { parsePairs, PairsFileError, subsetPairs, type FacePair } from './pairs.ts';
