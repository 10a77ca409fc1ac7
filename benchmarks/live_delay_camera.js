// A "camera" that films the screen, for benchmarks/bench_live_delay.py (a Playwright init script).
//
// Runs in every frame of the page, streamlit-webrtc's iframe included. getUserMedia({video}) returns
// a canvas.captureStream() instead of a camera; at CAMERA_FPS the canvas copies the <video> element
// that shows the film received from the server (letting the real camera's own latency out: see the
// benchmark's notes). So the server receives the film back, and the frame number drawn into every film
// frame (frame_code.py) says which film frame the "camera" saw.
//
// For the breakdown it also logs, in window.__delay (times in ms since the Unix epoch, the clock the
// server's time.time() reads on this machine): every canvas copy (when, which frame), every film frame
// the <video> presents (requestVideoFrameCallback: when its last packet arrived, when it was presented,
// which frame), and keeps the RTCPeerConnections so their getStats() can be read while the film plays.
(() => {
  const LAYOUT = __LAYOUT__;           // frame_code.layout(): the sampled blocks, as fractions of the frame
  const CAMERA_FPS = __CAMERA_FPS__;
  const WIDTH = __WIDTH__, HEIGHT = __HEIGHT__;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  const origin = performance.timeOrigin;
  const log = window.__delay = {captures: [], shown: [], pcs: [], cameraStreams: 0, origin: origin};
  const ours = new Set();              // ids of the tracks this script made (never the film)
  const BAND_BOTTOM = Math.max(...LAYOUT.blocks.map(([, bottom]) => bottom[3]));

  const Original = window.RTCPeerConnection;
  if (Original) {
    window.RTCPeerConnection = class extends Original {
      constructor(...args) { super(...args); log.pcs.push(this); }
    };
  }

  // The frame number in a picture: the same reading as frame_code.read (Gray code, complement rows).
  function readCode(context, w, h) {
    const rows = Math.min(h, Math.ceil(BAND_BOTTOM * h) + 1);   // only the band is read back
    const pixels = context.getImageData(0, 0, w, rows).data;
    const mean = (r) => {
      const x0 = Math.round(r[0] * w), x1 = Math.round(r[1] * w), y0 = Math.round(r[2] * h), y1 = Math.round(r[3] * h);
      let sum = 0, n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
        const i = 4 * (y * w + x);
        sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
        n++;
      }
      return n ? sum / n : 0;
    };
    let code = 0, weakest = Infinity;
    for (const [top, bottom] of LAYOUT.blocks) {
      const a = mean(top), b = mean(bottom);
      code = (code << 1) | (a > b ? 1 : 0);
      weakest = Math.min(weakest, Math.abs(a - b));
    }
    if (weakest < LAYOUT.min_contrast) return -1;
    let n = 0;
    for (let g = code; g; g >>= 1) n ^= g;
    return n;
  }

  const canvas = document.createElement("canvas");
  canvas.width = WIDTH; canvas.height = HEIGHT;
  const context = canvas.getContext("2d", {willReadFrequently: true});
  context.fillStyle = "black"; context.fillRect(0, 0, WIDTH, HEIGHT);
  const scratch = document.createElement("canvas");
  scratch.width = WIDTH; scratch.height = HEIGHT;
  const scratchContext = scratch.getContext("2d", {willReadFrequently: true});

  function filmElement() {
    for (const v of document.querySelectorAll("video")) {
      const tracks = v.srcObject ? v.srcObject.getVideoTracks() : [];
      if (tracks.length && !tracks.some((t) => ours.has(t.id)) && v.videoWidth > 0) return v;
    }
    return null;
  }

  let watched = null;
  function watch(video) {
    if (watched === video || !video.requestVideoFrameCallback) return;
    watched = video;
    const onFrame = (now, meta) => {
      if (watched !== video) return;
      scratchContext.drawImage(video, 0, 0, WIDTH, HEIGHT);
      const code = readCode(scratchContext, WIDTH, HEIGHT);
      const at = (t) => (t === undefined ? null : origin + t);
      log.shown.push([at(meta.receiveTime), at(meta.presentationTime), at(meta.expectedDisplayTime), code,
                      meta.rtpTimestamp === undefined ? null : meta.rtpTimestamp]);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  setInterval(() => {
    const video = filmElement();
    if (!video) return;
    watch(video);
    context.drawImage(video, 0, 0, WIDTH, HEIGHT);
    const t = origin + performance.now();
    log.captures.push([t, readCode(context, WIDTH, HEIGHT)]);
  }, 1000 / CAMERA_FPS);

  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.video) return getUserMedia(constraints);
    const stream = canvas.captureStream(CAMERA_FPS);
    for (const track of stream.getVideoTracks()) ours.add(track.id);
    log.cameraStreams++;
    if (constraints.audio) {
      const sound = await getUserMedia({audio: constraints.audio, video: false});
      for (const track of sound.getAudioTracks()) stream.addTrack(track);
    }
    return stream;
  };
})();
