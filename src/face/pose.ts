// Head pose (yaw, pitch) estimated from YuNet's five landmarks. The geometry is a weak-perspective
// face model: the nose tip stands in front of the plane through the eyes and mouth corners, so
// when the head turns the nose tip slides sideways relative to the face's midline, and when it
// nods the nose slides along the eye→mouth axis.
//
// Sign convention (the picture as the camera took it, not a mirrored selfie preview):
// - yaw > 0: the subject turned towards *their own left*. Their left is the right-hand side of
//   the picture, so the nose moves towards larger x.
// - pitch > 0: the subject lifted their chin (looks up); the nose moves towards the eyes.
import type { Box } from './detect.ts';

export interface HeadPose { yaw: number; pitch: number }

/** Nose-tip depth in front of the eye/mouth plane, as a fraction of the inter-eye distance. */
const NOSE_DEPTH_PER_EYE_DISTANCE = 0.5;
/** Nose-tip depth as a fraction of the eye-line to mouth-line distance. */
const NOSE_DEPTH_PER_EYE_MOUTH = 0.45;
/**
 * Where the nose tip sits between eye line (0) and mouth line (1) in a frontal face. The ArcFace
 * template says 0.494, but YuNet's nose landmark sits lower: over 1,500 LFW images (mostly people
 * looking at the camera) the median is 0.565, so that is "level".
 */
const FRONTAL_NOSE_HEIGHT = 0.565;

const DEG = 180 / Math.PI;

/**
 * Landmarks in YuNet order: right eye, left eye, nose, right mouth corner, left mouth corner
 * (image-left first). `box` is only used as a scale when the eyes coincide (degenerate input).
 */
export function estimateHeadPose(landmarks: ReadonlyArray<readonly [number, number]>, box?: Box): HeadPose {
  const [eyeA, eyeB, nose, mouthA, mouthB] = landmarks;
  const eyeMid = [(eyeA[0] + eyeB[0]) / 2, (eyeA[1] + eyeB[1]) / 2];
  const mouthMid = [(mouthA[0] + mouthB[0]) / 2, (mouthA[1] + mouthB[1]) / 2];
  let ex = eyeB[0] - eyeA[0];
  let ey = eyeB[1] - eyeA[1];
  let eyeDistance = Math.hypot(ex, ey);
  if (eyeDistance < 1e-6) {
    ex = 1;
    ey = 0;
    eyeDistance = box ? box.width / 2.5 : 1;
  } else {
    ex /= eyeDistance;
    ey /= eyeDistance;
  }
  // Face axes with roll removed: u along the eye line (image-left → image-right), v perpendicular (downwards).
  const ux = ex, uy = ey;
  const vx = -ey, vy = ex;
  const mid = [(eyeMid[0] + mouthMid[0]) / 2, (eyeMid[1] + mouthMid[1]) / 2];
  const sideways = ((nose[0] - mid[0]) * ux + (nose[1] - mid[1]) * uy) / eyeDistance;
  const eyeMouth = (mouthMid[0] - eyeMid[0]) * vx + (mouthMid[1] - eyeMid[1]) * vy;
  const noseDown = (nose[0] - eyeMid[0]) * vx + (nose[1] - eyeMid[1]) * vy;
  const noseHeight = eyeMouth > 1e-6 ? noseDown / eyeMouth : FRONTAL_NOSE_HEIGHT;
  // sideways = depth·tan(yaw) (eye distance shrinks by cos(yaw) as the nose moves by sin(yaw)).
  const yaw = Math.atan(sideways / NOSE_DEPTH_PER_EYE_DISTANCE) * DEG;
  const pitch = Math.atan((FRONTAL_NOSE_HEIGHT - noseHeight) / NOSE_DEPTH_PER_EYE_MOUTH) * DEG;
  return { yaw, pitch };
}
