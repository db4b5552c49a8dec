// One picture in, one face analysis out: detect → checks → align → quality → embed → passive
// liveness. Model execution is behind `FaceRunners`, so this runs the same in a worker thread, in
// a benchmark, or anywhere sessions exist.
import { alignFace, ARCFACE_TEMPLATE, estimateSimilarity, invertSimilarity } from './align.ts';
import { decodeDetections, detectorInput, type Box, type Detection, type TensorLike } from './detect.ts';
import { embedderInput, l2Normalise, type EmbedderPreprocess } from './embed.ts';
import { FaceRejected } from './errors.ts';
import { livenessInput, passiveScore } from './passive.ts';
import { cropResizePlanar, mirrorPlanar, warpAffine, type RgbImage } from './pixels.ts';
import { estimateHeadPose, type HeadPose } from './pose.ts';
import { faceImageStats, qualityScore } from './quality.ts';
import { borrowTensor, returnTensor } from './tensors.ts';

export interface FaceRunners {
  detect(tensor: Float32Array, width: number, height: number): Promise<Record<string, TensorLike>>;
  /** `count` aligned faces stacked in one tensor; returns their embeddings back to back. */
  embed(tensor: Float32Array, count?: number): Promise<ArrayLike<number>>;
  /** One logits vector per liveness model, given one input per model (in manifest order). */
  liveness(tensors: Float32Array[]): Promise<Array<ArrayLike<number>>>;
  /** Box scale each liveness model expects, in the same order. */
  livenessScales: number[];
  /** The embedder's preprocessing (its manifest entry); MobileFaceNet's when absent. */
  embedderPreprocess?: EmbedderPreprocess;
  /**
   * The same embedder and liveness models on another thread. When present, the work that needs
   * only the first detection (liveness, faces aligned on its landmarks) runs there while this
   * thread refines the landmarks; absent, everything runs here, one step after another.
   */
  side?: Pick<FaceRunners, 'embed' | 'liveness'>;
}

/** Flip averaging: none; the mirrored aligned face; or the mirrored picture with its own landmarks. */
export type FlipMode = 'off' | 'mirror' | 'mirror-redetect';

/**
 * What turns a face into an embedding. An embedding made by one version is only comparable with
 * embeddings of the same version (and model), so templates record the version they were made with.
 * - 1: landmarks from the detection of the whole picture (scaled to ≤ 640), one embedding.
 * - 2: landmarks from a second detection on a crop twice the face's size, scaled so the face spans
 *   256 px; plus the same for the mirrored picture (the mirrored crop is detected on its own, so its
 *   landmark errors are independent), and the two embeddings are averaged.
 * - 3: two alignments, one on the refined landmarks (crop where the face spans 256 px) and one on
 *   the first detection's, each with its mirror image: four views, one embedder batch, averaged.
 *   The two landmark sets come from detections at different scales and err differently, so the
 *   average is less sensitive to either one's alignment error; one extra detection instead of two.
 * - 4: version 3 with the first detection on the picture scaled to ≤ 320 instead of ≤ 640. Its
 *   landmarks are refined anyway, and a quarter of the pixels costs a quarter of the time. Pictures
 *   of 320 px or less (LFW's 250 px photos) give exactly version 3's embedding.
 * Head pose, box, size and every refusal come from the first detection in all versions.
 */
export interface PipelineVersionSpec {
  /** Re-detect on a crop where the face spans this many pixels; 0 = use the first detection. */
  refineFaceSize: number;
  flip: FlipMode;
  /**
   * Also embed the face aligned on the first detection's landmarks (with its mirror image when
   * `flip` is not off) and average it in. Only meaningful with `refineFaceSize` > 0.
   */
  firstLandmarks?: boolean;
  /** Long side of the picture for the first detection (default 640). */
  detectorSize?: number;
}

export const PIPELINE_VERSIONS: Readonly<Record<number, PipelineVersionSpec>> = {
  1: { refineFaceSize: 0, flip: 'off' },
  2: { refineFaceSize: 256, flip: 'mirror-redetect' },
  3: { refineFaceSize: 256, flip: 'mirror', firstLandmarks: true },
  4: { refineFaceSize: 256, flip: 'mirror', firstLandmarks: true, detectorSize: 320 },
};

/** The version new templates are made with. */
export const CURRENT_PIPELINE_VERSION = 4;

const DEFAULT_DETECTOR_SIZE = 640;

export function pipelineVersionSpec(version: number): PipelineVersionSpec {
  const spec = PIPELINE_VERSIONS[version];
  if (!spec) throw new RangeError(`unknown face pipeline version ${version}`);
  return spec;
}

export interface PipelineOptions {
  /** Version whose embedding is `embedding` (default CURRENT_PIPELINE_VERSION). */
  pipelineVersion?: number;
  /** Further versions to embed in the same pass (e.g. the one an old template was made with). */
  alsoEmbed?: number[];
  /** Overrides the version's refinement size (evaluation of alternatives only). */
  refineFaceSize?: number;
  /** Overrides the version's flip averaging (evaluation of alternatives only). */
  flip?: FlipMode;
  /** Overrides whether the first detection's alignment is averaged in (evaluation of alternatives only). */
  firstLandmarks?: boolean;
  /** Smallest accepted face (shorter side of the detector's box), in pixels of the working image. */
  minFaceSize?: number;
  /** Refuse turned heads (enrolment, verification); off for liveness-challenge frames. */
  requireFrontal?: boolean;
  /** Overrides the version's first-detection size, the long side of the detector input (evaluation of alternatives only). */
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

type Overrides = 'refineFaceSize' | 'flip' | 'firstLandmarks' | 'detectorSize';
export const PIPELINE_DEFAULTS: Required<Omit<PipelineOptions, Overrides>> & Pick<PipelineOptions, Overrides> = {
  pipelineVersion: CURRENT_PIPELINE_VERSION,
  alsoEmbed: [],
  minFaceSize: 64,
  requireFrontal: true,
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
  /** L2-normalised, made by `pipelineVersion`. */
  embedding: Float32Array;
  pipelineVersion: number;
  /** Embeddings of the versions asked for with `alsoEmbed` (and `pipelineVersion`'s), by version. */
  embeddings: Record<number, Float32Array>;
  /** 0..1, 1 = real (MiniFASNet pair; never evaluated on spoofs here — see docs/face-pipeline.md). */
  passiveLiveness: number;
}

export async function detectFaces(image: RgbImage, runners: FaceRunners, { detectorSize = DEFAULT_DETECTOR_SIZE, scoreThreshold = 0.6 } = {}): Promise<Detection[]> {
  const input = detectorInput(image, { size: detectorSize, allocate: borrowTensor });
  try {
    return decodeDetections(await runners.detect(input.tensor, input.width, input.height), input, { scoreThreshold });
  } finally {
    returnTensor(input.tensor);
  }
}

/** The detection whose box centre is nearest (x, y), the first of equals; undefined when there is none. */
export function nearestDetection(found: readonly Detection[], x: number, y: number): Detection | undefined {
  const distance = (d: Detection) => Math.hypot(d.box.x + d.box.width / 2 - x, d.box.y + d.box.height / 2 - y);
  let best = found[0];
  for (let i = 1; i < found.length; i += 1) if (distance(found[i]!) < distance(best!)) best = found[i];
  return best;
}

type ResolvedOptions = typeof PIPELINE_DEFAULTS;

/** Picks the face to analyse, or refuses the picture with the reason a user can act on. */
export function selectFace(detections: Detection[], image: { width: number; height: number }, o: ResolvedOptions): Detection {
  if (detections.length === 0) throw new FaceRejected('no_face');
  const byArea = [...detections].sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
  const similar = byArea.filter((other) => other.box.width >= byArea[0].box.width * o.multipleFaceRatio);
  if (similar.length > 1 && !o.allowOtherFaces) throw new FaceRejected('multiple_faces');
  const face = nearestDetection(similar, image.width / 2, image.height / 2)!;
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

/**
 * Landmarks from a second detection at a resolution that suits the face: a square crop of twice
 * the face's size around it, scaled so the face spans about `faceSize` pixels. Small faces (an LFW
 * face is ~100 px) get coarse landmarks from a detection of the whole picture, and the 5-point
 * alignment inherits their error. Undefined when the crop shows no face (the caller falls back).
 */
export async function refineDetection(
  image: RgbImage,
  face: Detection,
  runners: FaceRunners,
  { faceSize, scoreThreshold = 0.5, mirrored = false }: { faceSize: number; scoreThreshold?: number; mirrored?: boolean },
): Promise<Detection | undefined> {
  const span = Math.max(face.box.width, face.box.height);
  const side = 2 * span;
  const pixels = Math.max(32, Math.ceil((2 * faceSize) / 32) * 32);
  const cx = face.box.x + face.box.width / 2;
  const cy = face.box.y + face.box.height / 2;
  // Mirrored: the same crop of the mirror image (x → W−1−x), i.e. the crop mirrored; its landmarks
  // are returned in the mirror image's coordinates, image-left first as YuNet gives them.
  const rect = { x: mirrored ? image.width - cx - side / 2 : cx - side / 2, y: cy - side / 2, width: side, height: side };
  // Sampled straight into the detector's input (planar BGR), mirrored there when asked.
  const tensor = cropResizePlanar(image, { ...rect, x: cx - side / 2 }, pixels, pixels, { bgr: true, mirrored, tensor: borrowTensor(3 * pixels * pixels) });
  let found: Detection[];
  try {
    found = decodeDetections(await runners.detect(tensor, pixels, pixels), { width: pixels, height: pixels, scale: 1 }, { scoreThreshold });
  } finally {
    returnTensor(tensor);
  }
  if (found.length === 0) return undefined;
  const nearest = nearestDetection(found, pixels / 2, pixels / 2)!;
  // Crop pixel u samples source x = rect.x + (u + 0.5)·s − 0.5 (cropResize's pixel-centre mapping).
  const s = side / pixels;
  const back = (u: number, origin: number) => origin + (u + 0.5) * s - 0.5;
  return { ...face, landmarks: nearest.landmarks.map(([u, v]) => [back(u, rect.x), back(v, rect.y)] as [number, number]) };
}

interface EmbeddingPlan { version: number; refineFaceSize: number; flip: FlipMode; firstLandmarks: boolean; detectorSize: number }

/** The aligned face of the mirror image, sampled from `image` (x → W−1−x), given landmarks in mirror-image coordinates. */
function alignMirrored(image: RgbImage, landmarks: ReadonlyArray<readonly [number, number]>): RgbImage {
  const map = invertSimilarity(estimateSimilarity(landmarks, ARCFACE_TEMPLATE));
  return warpAffine(image, { a: -map.a, b: -map.b, c: image.width - 1 - map.c, d: map.d, e: map.e, f: map.f }, 112, 112);
}

/**
 * One face the embedder sees: aligned on the first detection's landmarks, on the refined ones, or
 * on the mirrored crop's refined ones; or the mirror image of another view's input.
 */
interface View {
  plan: EmbeddingPlan;
  landmarks: 'first' | 'refined' | 'refined-mirrored';
  mirrorOf?: View;
}

/** The views a version averages, in the order their embeddings are added (which fixes the sum's rounding). */
function viewsOf(plan: EmbeddingPlan): View[] {
  const own: View = { plan, landmarks: plan.refineFaceSize > 0 ? 'refined' : 'first' };
  const views = [own];
  if (plan.flip === 'mirror') views.push({ plan, landmarks: own.landmarks, mirrorOf: own });
  if (plan.flip === 'mirror-redetect') views.push(plan.refineFaceSize > 0 ? { plan, landmarks: 'refined-mirrored' } : { plan, landmarks: own.landmarks, mirrorOf: own });
  if (plan.firstLandmarks && plan.refineFaceSize > 0) {
    const first: View = { plan, landmarks: 'first' };
    views.push(first);
    if (plan.flip !== 'off') views.push({ plan, landmarks: 'first', mirrorOf: first });
  }
  return views;
}

const FACE_LENGTH = 3 * 112 * 112;

/** Stacks the views' embedder inputs in one tensor; a mirror view is its source's input with each row reversed. */
function embedderBatch(views: View[], imageOf: (view: View) => RgbImage, preprocess: EmbedderPreprocess | undefined): Float32Array {
  const batch = new Float32Array(views.length * FACE_LENGTH);
  views.forEach((view, i) => {
    if (view.mirrorOf) mirrorPlanar(batch, views.indexOf(view.mirrorOf) * FACE_LENGTH, i * FACE_LENGTH, 112, 112);
    else embedderInput(imageOf(view), batch, i * FACE_LENGTH, preprocess);
  });
  return batch;
}

/** Starts `work` now and lets it be awaited later without an unhandled rejection if the picture is refused first. */
function started<T>(work: Promise<T>): Promise<T> {
  work.catch(() => {});
  return work;
}

export async function analyzePicture(image: RgbImage, runners: FaceRunners, options: PipelineOptions = {}): Promise<PipelineResult> {
  const o: ResolvedOptions = { ...PIPELINE_DEFAULTS, ...options };
  const plans: EmbeddingPlan[] = [...new Set([o.pipelineVersion, ...o.alsoEmbed])].map((version) => {
    const spec = pipelineVersionSpec(version);
    const own = version === o.pipelineVersion;
    return {
      version,
      refineFaceSize: (own ? o.refineFaceSize : undefined) ?? spec.refineFaceSize,
      flip: (own ? o.flip : undefined) ?? spec.flip,
      firstLandmarks: (own ? o.firstLandmarks : undefined) ?? spec.firstLandmarks ?? false,
      detectorSize: (own ? o.detectorSize : undefined) ?? spec.detectorSize ?? DEFAULT_DETECTOR_SIZE,
    };
  });
  const main = plans[0]!;
  const face = selectFace(await detectFaces(image, runners, { detectorSize: main.detectorSize, scoreThreshold: o.scoreThreshold }), image, o);

  // A version whose first detection ran at another scale (an older template's, say) gets its own:
  // the detection at that scale nearest this face. Sizes that scale the picture alike share one.
  const detectorScale = (size: number) => Math.max(1, Math.max(image.width, image.height) / size);
  const anchors = new Map<number, Promise<Detection>>([[detectorScale(main.detectorSize), Promise.resolve(face)]]);
  const onMainAnchor = (plan: EmbeddingPlan) => detectorScale(plan.detectorSize) === detectorScale(main.detectorSize);
  const anchorOf = (plan: EmbeddingPlan): Promise<Detection> => {
    const scale = detectorScale(plan.detectorSize);
    if (!anchors.has(scale)) {
      anchors.set(scale, detectFaces(image, runners, { detectorSize: plan.detectorSize, scoreThreshold: o.scoreThreshold }).then((found) => nearestDetection(found, face.box.x + face.box.width / 2, face.box.y + face.box.height / 2) ?? face));
    }
    return anchors.get(scale)!;
  };
  const views = plans.flatMap(viewsOf);
  const livenessInputs = () => runners.livenessScales.map((scale) => livenessInput(image, face.box, scale));
  const alignedOn = new Map<Detection, RgbImage>();
  const firstAligned = (anchor: Detection) => {
    if (!alignedOn.has(anchor)) alignedOn.set(anchor, alignFace(image, anchor.landmarks));
    return alignedOn.get(anchor)!;
  };

  // With a side thread, what needs only this detection starts there now: the liveness models and
  // the views aligned on its landmarks (when the refined views keep this thread busy). A refusal
  // below wastes that work but not the user's time.
  const sideViews = runners.side && views.some((v) => v.landmarks !== 'first') ? views.filter((v) => v.landmarks === 'first' && onMainAnchor(v.plan)) : [];
  const sideEmbeddings = runners.side && sideViews.length > 0 ? started(runners.side.embed(embedderBatch(sideViews, () => firstAligned(face), runners.embedderPreprocess), sideViews.length)) : undefined;
  const sideLogits = runners.side ? started(runners.side.liveness(livenessInputs())) : undefined;

  // One refined detection per anchor, size and side (normally one).
  const refined = new Map<string, Promise<Detection | undefined>>();
  const refine = (plan: EmbeddingPlan, mirrored: boolean) => {
    const key = `${detectorScale(plan.detectorSize)}:${plan.refineFaceSize}:${mirrored}`;
    if (!refined.has(key)) refined.set(key, anchorOf(plan).then((anchor) => refineDetection(image, anchor, runners, { faceSize: plan.refineFaceSize, mirrored })));
    return refined.get(key)!;
  };
  const landmarksFor = async (plan: EmbeddingPlan) => ((plan.refineFaceSize > 0 ? await refine(plan, false) : undefined) ?? (await anchorOf(plan))).landmarks;
  const landmarks = await landmarksFor(main);

  const aligned = landmarks === face.landmarks ? firstAligned(face) : alignFace(image, landmarks);
  const stats = faceImageStats(aligned);
  if (stats.brightness < o.minBrightness) throw new FaceRejected('too_dark');
  if (stats.sharpness < o.minSharpness) throw new FaceRejected('too_blurred');
  const pose = estimateHeadPose(face.landmarks, face.box);
  if (o.requireFrontal && (Math.abs(pose.yaw) > o.maxYaw || Math.abs(pose.pitch) > o.maxPitch)) throw new FaceRejected('head_turned');

  // The remaining views, in one embedder batch on this thread.
  const images = new Map<View, RgbImage>();
  for (const view of views) {
    if (view.mirrorOf || sideViews.includes(view)) continue;
    if (view.landmarks === 'first') images.set(view, firstAligned(await anchorOf(view.plan)));
    else if (view.landmarks === 'refined') images.set(view, view.plan === main ? aligned : alignFace(image, await landmarksFor(view.plan)));
    else {
      const mirrored = await refine(view.plan, true);
      // No face in the mirrored crop: the mirror image of the refined face instead.
      if (mirrored) images.set(view, alignMirrored(image, mirrored.landmarks));
      else view.mirrorOf = views.find((v) => v.plan === view.plan && v.landmarks === 'refined');
    }
  }
  const mainViews = views.filter((v) => !sideViews.includes(v));
  const mainRaw = await runners.embed(embedderBatch(mainViews, (v) => images.get(v)!, runners.embedderPreprocess), mainViews.length);
  const size = mainRaw.length / mainViews.length;
  const sideRaw = sideEmbeddings ? await sideEmbeddings : undefined;
  const rawOf = (view: View): ArrayLike<number> => {
    const onSide = sideViews.indexOf(view);
    const [raw, i] = onSide >= 0 ? [sideRaw!, onSide] : [mainRaw, mainViews.indexOf(view)];
    return Array.prototype.slice.call(raw, i * size, (i + 1) * size) as number[];
  };
  const embeddings: Record<number, Float32Array> = {};
  for (const plan of plans) {
    const sum = new Float32Array(size);
    for (const view of views) {
      if (view.plan !== plan) continue;
      // Each view normalised first, so neither dominates the average.
      const one = l2Normalise(rawOf(view) as number[]);
      for (let k = 0; k < size; k += 1) sum[k] += one[k]!;
    }
    embeddings[plan.version] = l2Normalise(sum);
  }

  const logits = sideLogits ? await sideLogits : await runners.liveness(livenessInputs());
  const quality = qualityScore(
    { score: face.score, stats, yaw: pose.yaw, pitch: pose.pitch, faceSize: Math.min(face.box.width, face.box.height) },
    { minBrightness: o.minBrightness, minSharpness: o.minSharpness, maxYaw: o.maxYaw, maxPitch: o.maxPitch, minFaceSize: o.minFaceSize },
  );
  return {
    box: face.box,
    landmarks,
    score: face.score,
    pose,
    quality,
    embedding: embeddings[main.version]!,
    pipelineVersion: main.version,
    embeddings,
    passiveLiveness: passiveScore(logits),
  };
}
