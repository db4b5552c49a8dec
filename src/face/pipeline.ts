// One picture in, one face analysis out: detect → checks → align → quality → embed → passive
// liveness. Model execution is behind `FaceRunners`, so this runs the same in a worker thread, in
// a benchmark, or anywhere sessions exist.
import { alignFace } from './align.ts';
import { decodeDetections, detectorInput, type Box, type Detection, type TensorLike } from './detect.ts';
import { embedderInput, l2Normalise } from './embed.ts';
import { FaceRejected } from './errors.ts';
import { livenessInput, passiveScore } from './passive.ts';
import type { RgbImage } from './pixels.ts';
import { estimateHeadPose, type HeadPose } from './pose.ts';
import { faceImageStats, qualityScore } from './quality.ts';

export interface FaceRunners {
  detect(tensor: Float32Array, width: number, height: number): Promise<Record<string, TensorLike>>;
  embed(tensor: Float32Array): Promise<ArrayLike<number>>;
  /** One logits vector per liveness model, given one input per model (in manifest order). */
  liveness(tensors: Float32Array[]): Promise<Array<ArrayLike<number>>>;
  /** Box scale each liveness model expects, in the same order. */
  livenessScales: number[];
}

export interface PipelineOptions {
  /** Smallest accepted face (shorter side of the detector's box), in pixels of the working image. */
  minFaceSize?: number;
  /** Refuse turned heads (enrolment, verification); off for liveness-challenge frames. */
  requireFrontal?: boolean;
  /** Long side of the detector input. */
  detectorSize?: number;
  scoreThreshold?: number;
  /** A second face whose box is at least this fraction of the main face's width counts as another person. */
  multipleFaceRatio?: number;
  /**
   * Accept pictures with other faces of similar size and analyse the one nearest the centre
   * (for evaluation on photo collections such as LFW; never for sign-in, where it hides a second person).
   */
  allowOtherFaces?: boolean;
  /** Box may stick out of the frame by this fraction of its size before the face counts as cut off. */
  cutOffTolerance?: number;
  minBrightness?: number;
  minSharpness?: number;
  maxYaw?: number;
  maxPitch?: number;
}

export const PIPELINE_DEFAULTS: Required<PipelineOptions> = {
  minFaceSize: 64,
  requireFrontal: true,
  detectorSize: 640,
  scoreThreshold: 0.6,
  multipleFaceRatio: 0.75,
  allowOtherFaces: false,
  cutOffTolerance: 0.1,
  minBrightness: 45,
  minSharpness: 20,
  maxYaw: 30,
  maxPitch: 25,
};

export interface PipelineResult {
  /** Face box in pixels of the picture as uploaded (after EXIF rotation). */
  box: Box;
  /** Right eye, left eye, nose, right mouth corner, left mouth corner (image-left first), same pixels as `box`. */
  landmarks: Array<[number, number]>;
  /** Detector confidence 0..1. */
  score: number;
  /** Degrees; yaw > 0 = turned to the subject's left, pitch > 0 = chin up (see pose.ts). */
  pose: HeadPose;
  /** 0..1, see quality.ts. */
  quality: number;
  /** L2-normalised. */
  embedding: Float32Array;
  /** 0..1, 1 = real (MiniFASNet pair; never evaluated on spoofs here — see docs/face-pipeline.md). */
  passiveLiveness: number;
}

export async function detectFaces(image: RgbImage, runners: FaceRunners, { detectorSize = 640, scoreThreshold = 0.6 } = {}): Promise<Detection[]> {
  const input = detectorInput(image, { size: detectorSize });
  const outputs = await runners.detect(input.tensor, input.width, input.height);
  return decodeDetections(outputs, input, { scoreThreshold });
}

/** Picks the face to analyse, or refuses the picture with the reason a user can act on. */
export function selectFace(detections: Detection[], image: { width: number; height: number }, o: Required<PipelineOptions>): Detection {
  if (detections.length === 0) throw new FaceRejected('no_face');
  const byArea = [...detections].sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
  const similar = byArea.filter((other) => other.box.width >= byArea[0].box.width * o.multipleFaceRatio);
  if (similar.length > 1 && !o.allowOtherFaces) throw new FaceRejected('multiple_faces');
  const distance = (d: Detection) => Math.hypot(d.box.x + d.box.width / 2 - image.width / 2, d.box.y + d.box.height / 2 - image.height / 2);
  const face = similar.reduce((best, d) => (distance(d) < distance(best) ? d : best));
  const { box, landmarks } = face;
  const slackX = box.width * o.cutOffTolerance;
  const slackY = box.height * o.cutOffTolerance;
  const boxOutside = box.x < -slackX || box.y < -slackY || box.x + box.width > image.width + slackX || box.y + box.height > image.height + slackY;
  const landmarkOutside = landmarks.some(([x, y]) => x < 0 || y < 0 || x >= image.width || y >= image.height);
  // YuNet clips its box at the frame, so a half-visible face looks like a narrow (or squat) face
  // against the edge, with landmarks crowding the border.
  const edge = Math.max(2, 0.01 * Math.max(image.width, image.height));
  const touchesEdge = box.x <= edge || box.y <= edge || box.x + box.width >= image.width - edge || box.y + box.height >= image.height - edge;
  const aspect = box.width / box.height;
  const border = 0.1 * box.height;
  const landmarkAtBorder = landmarks.some(([x, y]) => x < border || y < border || x > image.width - border || y > image.height - border);
  const clipped = touchesEdge && (aspect < 0.6 || aspect > 0.95 || landmarkAtBorder);
  if (boxOutside || landmarkOutside || clipped) throw new FaceRejected('face_cut_off');
  if (Math.min(box.width, box.height) < o.minFaceSize) throw new FaceRejected('face_too_small');
  return face;
}

export async function analyzePicture(image: RgbImage, runners: FaceRunners, options: PipelineOptions = {}): Promise<PipelineResult> {
  const o = { ...PIPELINE_DEFAULTS, ...options };
  const face = selectFace(await detectFaces(image, runners, o), image, o);
  const aligned = alignFace(image, face.landmarks);
  const stats = faceImageStats(aligned);
  if (stats.brightness < o.minBrightness) throw new FaceRejected('too_dark');
  if (stats.sharpness < o.minSharpness) throw new FaceRejected('too_blurred');
  const pose = estimateHeadPose(face.landmarks, face.box);
  if (o.requireFrontal && (Math.abs(pose.yaw) > o.maxYaw || Math.abs(pose.pitch) > o.maxPitch)) throw new FaceRejected('head_turned');

  const embedding = l2Normalise(await runners.embed(embedderInput(aligned)));
  const logits = await runners.liveness(runners.livenessScales.map((scale) => livenessInput(image, face.box, scale)));
  const quality = qualityScore(
    { score: face.score, stats, yaw: pose.yaw, pitch: pose.pitch, faceSize: Math.min(face.box.width, face.box.height) },
    { minBrightness: o.minBrightness, minSharpness: o.minSharpness, maxYaw: o.maxYaw, maxPitch: o.maxPitch, minFaceSize: o.minFaceSize },
  );
  return { box: face.box, landmarks: face.landmarks, score: face.score, pose, quality, embedding, passiveLiveness: passiveScore(logits) };
}
