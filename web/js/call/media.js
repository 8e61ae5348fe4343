// Local media: camera and microphone with graceful fallbacks (audio only,
// video only, viewer), the device lists for the pickers, camera switching
// and screen capture. Nothing here knows about peers.

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

function why(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'permission was refused';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'none was found';
    case 'NotReadableError':
    case 'AbortError':
      return 'it is in use by another app';
    default:
      return 'it could not be started';
  }
}

async function tryGet(constraints) {
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints) };
  } catch (err) {
    return { err };
  }
}

// Opens what it can: camera + microphone, else one of them, else nothing.
// Resolves { stream, audio, video, notice } where notice is '' when all went
// well, else a sentence for the person explaining how they will join.
export async function openLocalMedia({ cameraId = '', micId = '' } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: new MediaStream(), audio: false, video: false,
      notice: 'This page cannot use a camera or microphone (it needs https or localhost). You can join as a viewer.' };
  }
  const audioC = micId ? { deviceId: { exact: micId } } : true;
  const videoC = cameraId ? { ...VIDEO, deviceId: { exact: cameraId } } : VIDEO;
  const both = await tryGet({ audio: audioC, video: videoC });
  if (both.stream) return { stream: both.stream, audio: true, video: true, notice: '' };
  const audioOnly = await tryGet({ audio: audioC });
  if (audioOnly.stream) {
    return { stream: audioOnly.stream, audio: true, video: false,
      notice: `Camera unavailable: ${why(both.err)}. You will join with audio only.` };
  }
  const videoOnly = await tryGet({ video: videoC });
  if (videoOnly.stream) {
    return { stream: videoOnly.stream, audio: false, video: true,
      notice: `Microphone unavailable: ${why(audioOnly.err)}. Others will see you but not hear you.` };
  }
  return { stream: new MediaStream(), audio: false, video: false,
    notice: `Camera and microphone unavailable: ${why(both.err)}. You can join as a viewer: you will see and hear the others.` };
}

// Device lists for the pickers (labels appear once permission was given).
export async function listDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], mics: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  const label = (d, i, kind) => d.label || `${kind} ${i + 1}`;
  return {
    cameras: all.filter((d) => d.kind === 'videoinput').map((d, i) => ({ id: d.deviceId, label: label(d, i, 'Camera') })),
    mics: all.filter((d) => d.kind === 'audioinput').map((d, i) => ({ id: d.deviceId, label: label(d, i, 'Microphone') })),
  };
}

// A fresh camera track from deviceId (for switching without renegotiation).
export async function cameraTrack(deviceId) {
  const s = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, deviceId: { exact: deviceId } } });
  return s.getVideoTracks()[0];
}

// A screen, window or tab track; rejects if the person cancels.
export async function screenTrack() {
  if (!navigator.mediaDevices?.getDisplayMedia) throw new Error('Screen sharing is not supported by this browser.');
  const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  return s.getVideoTracks()[0];
}

// The deviceId a track was opened from ('' if unknown).
export const deviceOf = (track) => track?.getSettings?.().deviceId || '';

export function stopStream(stream) {
  for (const t of stream?.getTracks() || []) t.stop();
}
