"""Benchmark of the offline face pipeline: frames/s of `process_video` on real-face videos.

    python scripts/benchmark_faces.py
    python scripts/benchmark_faces.py --sizes=320x240,640x480,1280x720 --frames=24

For each frame size, a few dummy videos (`dummy_videos.write_face_video`, real photographs) are
written to a temp dir and processed with every frame sampled: frames/s of a real video and of a
fake with its source (BiG-Arts masks), and, on one thread, where a frame's time goes: decoding,
face detection (dlib HOG, with its up-sampling rule), 68 landmarks, crop + face hull. Prints a
table and writes JSON (`--output`). Model loading is done before timing.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
import time

from absl import app, flags

from fakenas_jax.data import faces, masks
from fakenas_jax.data.faces import crop, detection, dummy_videos, models, video_io

_SIZES = flags.DEFINE_list("sizes", ["320x240", "640x480"], "Frame sizes WIDTHxHEIGHT.")
_VIDEOS = flags.DEFINE_integer("videos", 3, "Videos per size.")
_FRAMES = flags.DEFINE_integer("frames", 12, "Frames per video (all are processed).")
_CROP_SIZE = flags.DEFINE_integer("crop_size", 64, "Face crop side.")
_OUTPUT = flags.DEFINE_string("output", "runs/benchmark_faces.json", "JSON results file.")

_PHOTOS = ("astronaut", "grace_hopper", "lfw_1")


def _stages(paths: list[str], config: faces.FaceCropConfig) -> dict[str, float]:
  """Milliseconds per frame of each stage, measured separately on the same frames."""
  totals = dict(decode=0.0, detect=0.0, landmarks=0.0, crop=0.0)
  count = 0
  for path in paths:
    start = time.perf_counter()
    decoded = video_io.read_frames(path, range(config.num_frames))
    totals["decode"] += time.perf_counter() - start
    for frame in decoded.frames.values():
      count += 1
      start = time.perf_counter()
      box = detection.largest_face(frame)
      totals["detect"] += time.perf_counter() - start
      if box is None:
        continue
      start = time.perf_counter()
      landmarks = detection.find_landmarks(frame, box)
      totals["landmarks"] += time.perf_counter() - start
      start = time.perf_counter()
      crop_box = crop.square_crop_box(box, config.margin)
      crop.crop_square(frame, crop_box, config.crop_size)
      masks.face_hull_mask(
        crop.to_crop_coordinates(landmarks, crop_box, config.crop_size), config.crop_size
      )
      totals["crop"] += time.perf_counter() - start
  return {name: 1000 * seconds / max(count, 1) for name, seconds in totals.items()}


def benchmark_size(width: int, height: int, directory: str) -> dict:
  """Writes the videos of one size and measures them."""
  config = faces.FaceCropConfig(crop_size=_CROP_SIZE.value, num_frames=_FRAMES.value)
  reals, fakes = [], []
  for index in range(_VIDEOS.value):
    real = os.path.join(directory, f"{width}x{height}_{index}.mp4")
    fake = os.path.join(directory, f"{width}x{height}_{index}_fake.mp4")
    dummy_videos.write_face_video(
      real,
      num_frames=_FRAMES.value,
      size=(width, height),
      seed=index,
      photo=_PHOTOS[index % len(_PHOTOS)],
    )
    dummy_videos.write_swapped_video(
      fake, real, seed=index, photo=_PHOTOS[(index + 1) % len(_PHOTOS)]
    )
    reals.append(real)
    fakes.append(fake)
  result = dict(
    size=f"{width}x{height}",
    videos=len(reals),
    frames_per_video=_FRAMES.value,
    upsampling=detection.detection_upsampling(height, width),
  )
  start = time.perf_counter()
  real_results = [faces.process_video(path, config) for path in reals]
  seconds = time.perf_counter() - start
  examples = sum(len(video.examples) for video in real_results)
  result.update(real_examples=examples, real_frames_per_s=examples / seconds)
  start = time.perf_counter()
  fake_results = [
    faces.process_video(fake, config, source_path=real) for fake, real in zip(fakes, reals)
  ]
  seconds = time.perf_counter() - start
  examples = sum(len(video.examples) for video in fake_results)
  masked = sum(
    example.intrinsic is not None and bool(example.intrinsic.any())
    for video in fake_results
    for example in video.examples
  )
  result.update(fake_examples=examples, fake_masked=masked, fake_frames_per_s=examples / seconds)
  result["ms_per_frame"] = _stages(reals, config)
  return result


def main(argv):
  del argv
  models.landmark_predictor()
  models.face_detector()
  results = []
  with tempfile.TemporaryDirectory() as directory:
    for size in _SIZES.value:
      width, height = (int(value) for value in size.lower().split("x"))
      results.append(benchmark_size(width, height, directory))
  load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
  print(
    f"{'size':>10} {'up':>3} {'real f/s':>9} {'fake f/s':>9} {'masked':>7} "
    f"{'decode':>7} {'detect':>7} {'lmarks':>7} {'crop':>6}  (ms/frame)"
  )
  for row in results:
    stages = row["ms_per_frame"]
    print(
      f"{row['size']:>10} {row['upsampling']:>3} {row['real_frames_per_s']:9.1f} "
      f"{row['fake_frames_per_s']:9.1f} {row['fake_masked']:>3}/{row['fake_examples']:<3} "
      f"{stages['decode']:7.1f} {stages['detect']:7.1f} {stages['landmarks']:7.1f} "
      f"{stages['crop']:6.2f}"
    )
  print(f"load average (1 min): {load:.2f}")
  output = pathlib.Path(_OUTPUT.value)
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(dict(results=results, load_average=load), indent=2))
  print(f"wrote {output}")


if __name__ == "__main__":
  app.run(main)
