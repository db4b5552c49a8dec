// Page behaviour for the face prompt, bundled into /assets/build/face.js: opens the camera, shows a
// mirrored preview with an oval guide, grabs frames to a canvas as JPEG and posts them (base64 in
// JSON) with their capture times. Endpoints and messages come from data- attributes.
import { status, postJson as post, type Json } from './shared/page.ts';

/** How long each challenge step is shown, and when within it frames are taken. */
const STEP_MS = 2000;
const CAPTURE_AT = [0.4, 0.8];
const ENROL_FRAMES = 3;
const ENROL_GAP_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Camera {
  video: HTMLVideoElement;
  stop(): void;
}

/** Opens the camera and resolves once frames are playing; shows a mirrored preview with an oval. */
async function openCamera(root: HTMLElement): Promise<Camera | undefined> {
  if (!navigator.mediaDevices?.getUserMedia) {
    status(root, root.dataset.msgNoCamera!);
    return undefined;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  } catch (error) {
    const name = (error as { name?: string }).name;
    status(root, name === 'NotAllowedError' || name === 'SecurityError' ? root.dataset.msgDenied! : root.dataset.msgNoCamera!);
    return undefined;
  }
  const video = root.querySelector<HTMLVideoElement>('#face-video')!;
  const preview = root.querySelector<HTMLCanvasElement>('#face-preview')!;
  root.querySelector<HTMLElement>('.camera')!.hidden = false;
  video.srcObject = stream;
  const playing = new Promise<void>((resolve) => video.addEventListener('playing', () => resolve(), { once: true }));
  await video.play();
  await playing;
  let running = true;
  const draw = () => {
    if (!running) return;
    const g = preview.getContext('2d')!;
    const { width, height } = preview;
    g.save();
    g.translate(width, 0);
    g.scale(-1, 1); // a mirror: turning left moves the picture left
    g.drawImage(video, 0, 0, width, height);
    g.restore();
    g.strokeStyle = 'rgba(255,255,255,0.9)';
    g.lineWidth = 4;
    g.setLineDash([12, 8]);
    g.beginPath();
    g.ellipse(width / 2, height / 2, width * 0.2, height * 0.38, 0, 0, 2 * Math.PI);
    g.stroke();
    requestAnimationFrame(draw);
  };
  requestAnimationFrame(draw);
  return {
    video,
    stop() {
      running = false;
      for (const track of stream.getTracks()) track.stop();
    },
  };
}

/** One frame as it came from the camera (not mirrored), JPEG, base64 without the data: prefix. */
async function grab(video: HTMLVideoElement): Promise<{ image: string; at: number }> {
  const at = Date.now();
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  canvas.getContext('2d')!.drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no frame'))), 'image/jpeg', 0.9));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { image: btoa(binary), at };
}

function initEnrol(root: HTMLElement): void {
  const start = root.querySelector<HTMLButtonElement>('#face-start')!;
  const capture = root.querySelector<HTMLButtonElement>('#face-capture')!;
  const consent = root.querySelector<HTMLInputElement>('#face-consent')!;
  let camera: Camera | undefined;
  start.addEventListener('click', async () => {
    if (!consent.checked) return status(root, root.dataset.msgConsent!);
    start.disabled = true;
    camera ??= await openCamera(root);
    start.disabled = false;
    if (!camera) return;
    // Removed rather than hidden: the stylesheet's display rule for buttons outranks [hidden].
    start.remove();
    capture.hidden = false;
    capture.disabled = false;
    status(root, '', false);
    capture.focus();
  });
  capture.addEventListener('click', async () => {
    if (!camera) return;
    if (!consent.checked) return status(root, root.dataset.msgConsent!);
    capture.disabled = true;
    status(root, root.dataset.msgCapturing!, false);
    const frames: string[] = [];
    for (let i = 0; i < ENROL_FRAMES; i += 1) {
      if (i > 0) await sleep(ENROL_GAP_MS);
      frames.push((await grab(camera.video)).image);
    }
    status(root, root.dataset.msgChecking!, false);
    try {
      const result = await post(root.dataset.enrolUrl!, { csrf: root.dataset.csrf, consent: true, frames });
      if (result.ok && typeof result.data.redirect === 'string') {
        camera.stop();
        return window.location.assign(result.data.redirect);
      }
      if (result.status === 403 && typeof result.data.redirect === 'string') return window.location.assign(result.data.redirect);
      status(root, result.message ?? root.dataset.msgGeneric!);
    } catch {
      status(root, root.dataset.msgGeneric!);
    }
    capture.disabled = false;
  });
}

function initVerify(root: HTMLElement): void {
  const start = root.querySelector<HTMLButtonElement>('#face-start')!;
  const stepLine = root.querySelector<HTMLElement>('#face-step')!;
  start.addEventListener('click', async () => {
    start.disabled = true;
    status(root, '', false);
    try {
      const issued = await post(root.dataset.challengeUrl!, { csrf: root.dataset.csrf, ...(root.dataset.testSteps ? { testSteps: root.dataset.testSteps } : {}) });
      if (!issued.ok) {
        if (typeof issued.data.redirect === 'string') return window.location.assign(issued.data.redirect);
        status(root, issued.message ?? root.dataset.msgGeneric!);
      } else {
        await runChallenge(root, issued.data, stepLine);
      }
    } catch {
      status(root, root.dataset.msgGeneric!);
    }
    start.textContent = root.dataset.msgRetry!;
    start.disabled = false;
  });
}

/** An arrow per instruction (the preview is mirrored, so "your left" is on the left). */
const ARROWS: Record<string, string> = { left: '←', right: '→', up: '↑', down: '↓', straight: '◎' };

/**
 * Shows one instruction large, with its arrow and a countdown of the seconds left in the step.
 * Only the sentence is announced (the arrow and countdown are aria-hidden).
 */
function showStep(stepLine: HTMLElement, step: string, sentence: string, endsAt: number): () => void {
  stepLine.replaceChildren();
  const arrow = document.createElement('span');
  arrow.className = 'step-arrow';
  arrow.setAttribute('aria-hidden', 'true');
  arrow.textContent = ARROWS[step] ?? '';
  const text = document.createElement('span');
  text.className = 'step-text';
  text.textContent = sentence;
  const countdown = document.createElement('span');
  countdown.className = 'step-countdown';
  countdown.setAttribute('aria-hidden', 'true');
  const tick = () => {
    countdown.textContent = String(Math.max(1, Math.ceil((endsAt - performance.now()) / 1000)));
  };
  tick();
  stepLine.append(arrow, text, countdown);
  stepLine.dataset.step = step;
  const timer = setInterval(tick, 200);
  return () => clearInterval(timer);
}

async function runChallenge(root: HTMLElement, issued: Json, stepLine: HTMLElement): Promise<void> {
  const steps = issued.steps as Array<{ step: string; text: string }>;
  const camera = await openCamera(root);
  if (!camera) return;
  const frames: Array<{ image: string; at: number }> = [];
  const began = performance.now();
  try {
    for (const [i, { step, text }] of steps.entries()) {
      const sentence = `${root.dataset.msgStepOf!.replace('{n}', String(i + 1)).replace('{total}', String(steps.length))} ${text}`;
      const stop = showStep(stepLine, step, sentence, began + (i + 1) * STEP_MS);
      try {
        for (const fraction of CAPTURE_AT) {
          await sleep(Math.max(0, began + (i + fraction) * STEP_MS - performance.now()));
          frames.push(await grab(camera.video));
        }
      } finally {
        stop();
      }
    }
  } finally {
    camera.stop();
  }
  stepLine.textContent = '';
  delete stepLine.dataset.step;
  status(root, root.dataset.msgChecking!, false);
  const result = await post(root.dataset.verifyUrl!, { csrf: root.dataset.csrf, challengeId: issued.id, sentAt: Date.now(), frames });
  if (typeof result.data.redirect === 'string') return window.location.assign(result.data.redirect);
  status(root, result.message ?? root.dataset.msgGeneric!);
}

for (const root of document.querySelectorAll<HTMLElement>('[data-page]')) {
  if (root.dataset.page === 'face-enrol') initEnrol(root);
  if (root.dataset.page === 'face-verify') initVerify(root);
}
