"""Benchmark of `predict`: frames/s on a 720p video, face detection included.

    python scripts/benchmark_predict.py                         # trains a tiny Meso-4 first
    python scripts/benchmark_predict.py --workdir=runs/train --frames=120

Without `--workdir`, a tiny Meso-4 run is trained in a temp dir (configs/train/default.py on a
small synthetic studio corpus, one short epoch at `--image_size`). The video is written by this
script with OpenCV: 1280×720, a real face photograph (scikit-image's astronaut) composited in
and moving (`data.faces.dummy_videos`), MJPG in an .avi.

Measured, after one warm-up call that compiles the network:
1. end to end: `predict_files` scoring every frame (`every_n=1`) — decoding, dlib face
   detection, crop and preprocessing, the network, JSON/CSV: frames/s;
2. the default selection (`frames_per_video=10`): seconds for the whole video (the frames not
   selected are grabbed, not decoded);
3. where the time goes, per frame: decoding, face detection, crop + preprocessing, and the
   network alone on batches of crops (faces/s).
Prints a table and writes JSON (`--output`).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
import time

import cv2
import jax
import numpy as np
from absl import app, flags

sys.path.insert(0, os.fspath(pathlib.Path(__file__).resolve().parents[1]))

from configs.train import default  # noqa: E402
from fakenas_jax import cli  # noqa: E402
from fakenas_jax.data import preparation  # noqa: E402
from fakenas_jax.data.faces import detection, dummy_videos  # noqa: E402
from fakenas_jax.eval import predict_files as pf  # noqa: E402
from fakenas_jax.training import trainer  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", "", "A trained run (default: train a tiny Meso-4).")
_FRAMES = flags.DEFINE_integer("frames", 60, "Frames of the 720p test video.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 64, "Input side of the tiny run.")
_BATCH = flags.DEFINE_integer("batch_size", 16, "Faces per network call.")
_OUTPUT = flags.DEFINE_string("output", "runs/benchmark_predict.json", "JSON results file.")

CORPUS = "synthetic_faces/studio"
CORPUS_OVERRIDES = dict(
  identities=(3, 2, 2),
  real_videos_per_identity=1,
  fake_videos_per_identity=2,
  frames_per_video=4,
  resolution=64,
)


def train_tiny_run(folder: pathlib.Path, image_size: int) -> pathlib.Path:
  """A Meso-4 trained for one short epoch on a small synthetic corpus: its workdir."""
  data_dir = folder / "tfds"
  preparation.prepare(
    CORPUS, data_dir, overrides=CORPUS_OVERRIDES, builder_kwargs={"num_workers": 1}
  )
  config = default.get_config()
  config.dataset, config.data_dir = CORPUS, os.fspath(data_dir)
  config.corpus_overrides = dict(CORPUS_OVERRIDES)
  config.image_size, config.batch_size, config.eval_batch_size = image_size, 8, 8
  config.frames_per_video = config.eval_frames_per_video = 0
  config.epochs, config.steps_per_epoch, config.progress = 1, 4, False
  workdir = folder / "run"
  trainer.train_and_evaluate(config, workdir, devices=jax.devices()[:1])
  return workdir


def per_stage(predictor: pf.Predictor, video: pathlib.Path, frames: int) -> dict:
  """Seconds per frame of decoding, detection, crop + preprocessing; faces/s of the network."""
  capture = cv2.VideoCapture(os.fspath(video))
  decoded, start = [], time.perf_counter()
  while len(decoded) < frames:
    ok, frame = capture.read()
    if not ok:
      break
    decoded.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
  capture.release()
  decode = (time.perf_counter() - start) / len(decoded)
  start = time.perf_counter()
  boxes = [detection.detect_faces(frame) for frame in decoded]
  detect = (time.perf_counter() - start) / len(decoded)
  start = time.perf_counter()
  crops = [face for frame in decoded for _, _, face in predictor.faces_in(frame)]
  crop_and_detect = (time.perf_counter() - start) / len(decoded)
  faces = (
    np.stack(crops)
    if crops
    else np.zeros((0, predictor.image_size, predictor.image_size, 3), np.uint8)
  )
  predictor.score_faces(faces[: predictor.options.batch_size])  # compiled already; warm
  start = time.perf_counter()
  repeats = 5
  for _ in range(repeats):
    predictor.score_faces(faces)
  network = (time.perf_counter() - start) / repeats
  return {
    "decode_ms_per_frame": 1e3 * decode,
    "detect_ms_per_frame": 1e3 * detect,
    "crop_preprocess_ms_per_frame": 1e3 * max(0.0, crop_and_detect - detect),
    "frames_with_face": sum(bool(b) for b in boxes),
    "faces": len(crops),
    "network_faces_per_s": len(crops) / network if network > 0 else None,
  }


def main(argv):
  del argv
  cli.quiet_library_logs()
  with tempfile.TemporaryDirectory() as temp:
    folder = pathlib.Path(temp)
    start = time.perf_counter()
    workdir = (
      pathlib.Path(_WORKDIR.value) if _WORKDIR.value else train_tiny_run(folder, _IMAGE_SIZE.value)
    )
    train_seconds = time.perf_counter() - start
    video = folder / "face_720p.avi"
    dummy_videos.write_face_video(video, num_frames=_FRAMES.value, size=(1280, 720), seed=1, fps=25)
    predictor = pf.Predictor(workdir, pf.PredictOptions(every_n=1, batch_size=_BATCH.value))
    pf.predict_files(workdir, [video], folder / "warmup", predictor=predictor)  # compiles
    start = time.perf_counter()
    report = pf.predict_files(workdir, [video], folder / "every_frame", predictor=predictor)
    seconds = time.perf_counter() - start
    (result,) = report["files"]
    sampled = pf.Predictor(workdir, pf.PredictOptions(frames_per_video=10, batch_size=_BATCH.value))
    pf.predict_files(workdir, [video], folder / "warmup10", predictor=sampled)
    start = time.perf_counter()
    ten = pf.predict_files(workdir, [video], folder / "ten", predictor=sampled)["files"][0]
    ten_seconds = time.perf_counter() - start
    stages = per_stage(predictor, video, min(_FRAMES.value, 30))
  results = {
    "video": {"size": "1280x720", "frames": _FRAMES.value, "codec": "MJPG"},
    "model": report["model"],
    "image_size": report["image_size"],
    "crop": report["crop"],
    "device": str(jax.devices()[0]),
    "cpu_count": os.cpu_count(),
    "load_average": os.getloadavg(),
    "trained_here_seconds": None if _WORKDIR.value else round(train_seconds, 1),
    "every_frame": {
      "frames": result["frames_selected"],
      "frames_with_face": result["frames_scored"],
      "seconds": round(seconds, 3),
      "frames_per_s": round(result["frames_selected"] / seconds, 2),
    },
    "frames_per_video_10": {
      "frames_scored": ten["frames_scored"],
      "seconds_per_video": round(ten_seconds, 3),
    },
    "stages": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stages.items()},
  }
  print(
    f"predict on a {_FRAMES.value}-frame 720p video ({results['model']} at "
    f"{results['image_size']}×{results['image_size']}, {results['device']}):"
  )
  print(
    f"  every frame:          {results['every_frame']['frames_per_s']:8.2f} frames/s "
    f"({result['frames_scored']}/{result['frames_selected']} frames with a face)"
  )
  print(f"  10 frames a video:    {ten_seconds:8.2f} s for the video")
  s = results["stages"]
  print(
    f"  per frame: decode {s['decode_ms_per_frame']:.1f} ms, face detection "
    f"{s['detect_ms_per_frame']:.1f} ms, crop + preprocess "
    f"{s['crop_preprocess_ms_per_frame']:.1f} ms; network alone "
    f"{s['network_faces_per_s']:.0f} faces/s"
  )
  output = pathlib.Path(_OUTPUT.value)
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(results, indent=2))
  print(f"written to {output}")


if __name__ == "__main__":
  app.run(main)
