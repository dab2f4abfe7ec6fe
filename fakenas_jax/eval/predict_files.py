"""Scoring image and video files with a trained detector: `predict_files(workdir, paths)`.

    report = predict_files("runs/train", ["face.png", "clip.mp4"], output_dir="runs/pred",
                           frames_per_video=10, overlays=True)     # python -m fakenas_jax.predict
    report["files"][1]["p_fake"]          # the video's score: mean P(fake) of its scored frames

The detector is restored from its training workdir (`evaluator.restore_run`; the `best`
checkpoint by validation AUC by default, else `latest` or a step). Every file OpenCV reads is
accepted: a file OpenCV recognises as an image is one frame; anything else is opened as a video
and streamed frame by frame (frames are grabbed in order and only the selected ones decoded,
never the whole video in memory). Frames selected: `frames_per_video` evenly spaced ones
(`data.faces.sample_frame_indices`, as the corpora sample theirs), or every `every_n`-th.

Per selected frame, the project's face pipeline: dlib's HOG detector (or `detector='cnn'`, dlib's
MMOD CNN) finds the faces scoring above `min_face_score` (the detector's calibrated default,
`data.faces.detection.DEFAULT_MIN_SCORE`), largest first, at most `max_faces`; each face box becomes the square crop box with the run's corpus
`margin` (`data.faces.crop.square_crop_box`), cropped with zero padding at the frame border and
resized to the corpus's `crop_size` (`crop_square`), then resized to the run's `image_size` and
normalised (`data.preprocess`, the pipeline's mean and std), exactly as a training frame of a
face corpus is. The crop geometry comes from the run's corpus (`crop_geometry`): a face corpus's
`crop_size` / `margin`; for the synthetic corpora, which render whole frames around the face, the
margin that frames the face as their renderer does, derived from the recipe's face scale.

Scores: P(fake) per face; a frame's P(fake) follows `frame_score`: 'max' (the default: the
largest of its faces', a frame is fake when any face in it is) or 'mean' (the mean over its
faces: one stray detection cannot decide a frame of several faces); a file's P(fake) is the mean
over its frames with a face (an image: its one frame). `label` is 'fake' when P(fake) ≥
`threshold`.

Caveats (`report['caveats']`, per file `caveats`): the scores mean little outside the detector's
training domain, and the report says so: a detector trained only on the synthetic corpora used
on real media (its P(fake) on a real photograph is not calibrated), and faces whose crop is far
larger or smaller than the training crop (`RESOLUTION_FACTOR` times or more: the resize to the
network's input removes or invents the detail it learnt from).

`summary_line(report)` is one line of counts; `exit_code(report)` is 0 when every file was
scored, 1 when some failed or showed no face (`python -m fakenas_jax.predict` exits with it). Nothing about one file stops the batch:
a file that cannot be read, is not an image or video, or has no face in any selected frame comes
back with its `status` ('error' / 'no_face') and `message`; every selected frame without a face
or that does not decode carries its own `message`.

Written into `output_dir`: `predictions.json` (everything), `files.csv` (one row a file),
`frames.csv` (one row a selected frame), `faces.csv` (one row a face); with `overlays`, PNGs in
`overlays/` (the face crop, its Grad-CAM at `gradcam_layer` (default: `gradcam.default_layer`),
and the predicted region / intrinsic / extrinsic maps when the network has them), at most
`max_overlays` a file; with `annotated_video`, `annotated/<file>.mp4` for each video: every
frame with the boxes and P(fake) of the latest scored frame drawn in (red: fake, green: real).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import pathlib
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import cv2
import jax
import numpy as np

from fakenas_jax import parallel
from fakenas_jax.data import preprocess
from fakenas_jax.data.faces import crop as crop_lib
from fakenas_jax.data.faces import detection, video_io
from fakenas_jax.data.faces.config import FaceCropConfig
from fakenas_jax.eval import evaluator, gradcam
from fakenas_jax.training import steps

STATUS_OK, STATUS_NO_FACE, STATUS_ERROR = "ok", "no_face", "error"
NO_FACE = "no face"
FILE_COLUMNS = (
  "file",
  "kind",
  "status",
  "p_fake",
  "label",
  "frames_selected",
  "frames_scored",
  "frame_count",
  "fps",
  "message",
)
FRAME_COLUMNS = ("file", "frame_index", "time_s", "faces", "p_fake", "message")
FACE_COLUMNS = ("file", "frame_index", "face", "left", "top", "right", "bottom", "p_fake")
FRAME_SCORES = {
  "max": "max P(fake) over the frame's faces",
  "mean": "mean P(fake) over the frame's faces",
}
RESOLUTION_FACTOR = 4.0  # crop side / training crop side (or its inverse) that earns a caveat


@dataclasses.dataclass(frozen=True)
class CropGeometry:
  """How the run's corpus crops faces: output side, margin, and where these numbers come from."""

  crop_size: int
  margin: float
  source: str


@dataclasses.dataclass(frozen=True)
class PredictOptions:
  """What `predict_files` does besides scoring (module docstring)."""

  checkpoint: str | int = "best"
  frames_per_video: int = 10
  every_n: int = 0  # > 0: every n-th frame instead of frames_per_video
  batch_size: int = 16
  max_faces: int = 4
  threshold: float = 0.5
  overlays: bool = False
  max_overlays: int = 10  # overlay PNGs a file at most
  annotated_video: bool = False
  gradcam_layer: str = ""  # '' = gradcam.default_layer
  margin: float | None = None  # overrides the corpus's margin
  frame_score: str = "max"  # 'max' or 'mean' over a frame's faces (module docstring)
  detector: str = "hog"  # 'hog' or 'cnn' (data.faces.detection)
  min_face_score: float | None = None  # None: the detector's calibrated default

  def __post_init__(self):
    if self.frame_score not in FRAME_SCORES:
      raise ValueError(
        f"frame_score must be one of {', '.join(FRAME_SCORES)}, got {self.frame_score!r}"
      )
    if self.detector not in detection.DETECTORS:
      raise ValueError(
        f"detector must be one of {', '.join(detection.DETECTORS)}, got {self.detector!r}"
      )
    if self.every_n < 0 or (self.every_n == 0 and self.frames_per_video < 1):
      raise ValueError(
        f"need frames_per_video >= 1 or every_n >= 1, got frames_per_video="
        f"{self.frames_per_video}, every_n={self.every_n}"
      )
    if self.batch_size < 1 or self.max_faces < 1:
      raise ValueError(
        f"batch_size and max_faces must be >= 1, got {self.batch_size}, {self.max_faces}"
      )
    if self.margin is not None and not 0.0 <= self.margin <= 2.0:
      raise ValueError(f"margin must be in [0, 2], got {self.margin}")


def _synthetic_margin(recipe_name: str) -> float:
  """The crop margin that frames a face as the synthetic renderer frames it: the frame side is
  the face's landmark extent · (1 + 2·margin) at the middle of the style's face scale."""
  from fakenas_jax.data.synthetic import landmarks, recipes, styles

  style = styles.STYLES[recipes.RECIPES[recipe_name].style]
  points = landmarks.landmark_positions(
    landmarks.FaceShape(), landmarks.Expression(), landmarks.Pose(0.0, 0.0, 1.0)
  )
  extent = float((points.max(axis=0) - points.min(axis=0)).max()) * float(np.mean(style.face_scale))
  return float(np.clip((1.0 / extent - 1.0) / 2.0, 0.0, 2.0))


def crop_geometry(train_config, margin: float | None = None) -> CropGeometry:
  """The crop size and margin of the run's corpus (module docstring); `margin` overrides."""
  default = FaceCropConfig()
  geometry = CropGeometry(
    default.crop_size, default.margin, "face pipeline defaults (the corpus gives none)"
  )
  try:
    from fakenas_jax.data import corpora

    overrides = train_config.get("corpus_overrides") or {}
    overrides = overrides.to_dict() if hasattr(overrides, "to_dict") else dict(overrides)
    config = corpora.resolve_config(train_config.dataset, **overrides)
  except Exception as error:  # an unknown or unloadable corpus: keep the defaults
    geometry = dataclasses.replace(geometry, source=f"face pipeline defaults ({error})")
    config = None
  if config is not None and hasattr(config, "crop_size") and hasattr(config, "margin"):
    geometry = CropGeometry(
      int(config.crop_size), float(config.margin), f"{train_config.dataset} crop_size and margin"
    )
  elif config is not None and hasattr(config, "recipe") and hasattr(config, "resolution"):
    geometry = CropGeometry(
      int(config.resolution),
      _synthetic_margin(config.recipe),
      f"{train_config.dataset}: frame side and the renderer's face scale",
    )
  if margin is not None:
    geometry = dataclasses.replace(geometry, margin=float(margin), source="--margin")
  return geometry


def restore_detector(workdir: str | os.PathLike, checkpoint: str | int = "best", mesh=None):
  """`evaluator.restore_run` with errors that say how to get a trained detector; `best` falls
  back to `latest` when no checkpoint has a validation AUC. Returns (config, model, variables,
  meta, the checkpoint used)."""
  mesh = mesh if mesh is not None else parallel.make_data_mesh(jax.devices()[:1])
  hint = f"train one with: python -m fakenas_jax.train --workdir={workdir}"
  try:
    return (*evaluator.restore_run(workdir, mesh, checkpoint), str(checkpoint))
  except FileNotFoundError as error:
    if "train one with" in str(error):
      raise
    if checkpoint == "best" and "no checkpoint with metric" in str(error):
      return (
        *evaluator.restore_run(workdir, mesh, "latest"),
        "latest (no checkpoint has a validation AUC)",
      )
    raise FileNotFoundError(f"{error}; {hint}") from None


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "file"


def _round(value: float | None, digits: int = 6) -> float | None:
  return None if value is None else round(float(value), digits)


@dataclasses.dataclass
class _Face:
  record: dict[str, Any]  # the face's entry in its frame's "faces"
  frame: dict[str, Any]  # the frame's entry
  image: np.ndarray  # uint8 (S, S, 3): what the network sees, before normalisation


class _Annotator:
  """Writes every frame of a video with the latest scored frame's boxes and P(fake)."""

  def __init__(self, path: pathlib.Path, fps: float, size: tuple[int, int], threshold: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    self.path = path
    self.threshold = threshold
    self.writer = cv2.VideoWriter(
      os.fspath(path),
      cv2.VideoWriter_fourcc(*"mp4v"),
      float(fps) if fps and fps > 0 else 25.0,
      size,
    )
    if not self.writer.isOpened():
      raise OSError(f"OpenCV cannot write {path}")
    self.latest: dict[str, Any] | None = None

  def write(self, frame_rgb: np.ndarray, scored: dict[str, Any] | None) -> None:
    if scored is not None:
      self.latest = scored
    image = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    scale = max(0.4, max(image.shape[:2]) / 1200)
    if self.latest is not None:
      for face in self.latest["faces"]:
        left, top, right, bottom = (int(round(v)) for v in face["box"])
        fake = face["p_fake"] is not None and face["p_fake"] >= self.threshold
        colour = (0, 0, 255) if fake else (0, 200, 0)
        cv2.rectangle(image, (left, top), (right, bottom), colour, thickness)
        cv2.putText(
          image,
          f"P(fake) {face['p_fake']:.2f}",
          (left, max(12, top - 6)),
          cv2.FONT_HERSHEY_SIMPLEX,
          scale,
          colour,
          thickness,
          cv2.LINE_AA,
        )
      if not self.latest["faces"]:
        cv2.putText(
          image,
          NO_FACE,
          (8, int(24 * scale / 0.4)),
          cv2.FONT_HERSHEY_SIMPLEX,
          scale,
          (0, 200, 255),
          thickness,
          cv2.LINE_AA,
        )
    self.writer.write(image)

  def close(self) -> None:
    self.writer.release()


class Predictor:
  """A restored detector with its face crop and its compiled scoring (module docstring)."""

  def __init__(
    self, workdir: str | os.PathLike, options: PredictOptions = PredictOptions(), *, devices=None
  ):
    self.workdir = pathlib.Path(workdir)
    self.options = options
    mesh = parallel.make_data_mesh(devices if devices is not None else jax.devices()[:1])
    (self.train_config, self.model, self.variables, self.meta, self.checkpoint) = restore_detector(
      workdir, options.checkpoint, mesh
    )
    self.image_size = int(self.train_config.image_size)
    self.geometry = crop_geometry(self.train_config, options.margin)
    self.mean = preprocess.channel_stats(preprocess.MEAN, "mean")  # what training applied
    self.std = preprocess.channel_stats(preprocess.STD, "std")
    self.layer = ""
    if options.overlays:
      self.layer = options.gradcam_layer or gradcam.default_layer(
        self.model, self.variables, self.image_size
      )
      self._score = jax.jit(gradcam.make_gradcam(self.model, self.layer))
    else:
      self._score = jax.jit(steps.make_predict_step(self.model))

  # Faces ------------------------------------------------------------------------------------
  def faces_in(
    self, frame_rgb: np.ndarray
  ) -> list[tuple[np.ndarray, tuple[int, int, int], np.ndarray]]:
    """(face box, crop box, network input uint8 (S, S, 3)) of each face, largest first."""
    faces = []
    found = detection.detect_faces(
      frame_rgb, min_score=self.options.min_face_score, detector=self.options.detector
    )
    for box in found[: self.options.max_faces]:
      crop_box = crop_lib.square_crop_box(box, self.geometry.margin)
      face = crop_lib.crop_square(frame_rgb, crop_box, self.geometry.crop_size)
      faces.append((box, crop_box, preprocess.resize(face, self.image_size)))
    return faces

  def score_faces(self, images: np.ndarray) -> dict[str, np.ndarray]:
    """Network outputs for uint8 (N, S, S, 3) face crops, in batches of `batch_size` (the last
    one padded, so one compiled program serves every call)."""
    size = self.options.batch_size
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(images), size):
      chunk = images[start : start + size]
      padded = np.zeros((size,) + chunk.shape[1:], np.uint8)
      padded[: len(chunk)] = chunk
      inputs = preprocess.normalize_image(padded, self.mean, self.std)
      outputs = jax.device_get(self._score(self.variables, inputs))
      for name, value in outputs.items():
        parts.setdefault(name, []).append(np.asarray(value)[: len(chunk)])
    return {name: np.concatenate(value) for name, value in parts.items()}

  # Frames -----------------------------------------------------------------------------------
  def _new_frame(
    self, index: int, fps: float, frame_rgb: np.ndarray, pending: list[_Face]
  ) -> dict[str, Any]:
    record: dict[str, Any] = {
      "frame_index": int(index),
      "time_s": _round(index / fps, 3) if fps > 0 else None,
      "p_fake": None,
      "faces": [],
    }
    faces = self.faces_in(frame_rgb)
    if not faces:
      record["message"] = NO_FACE
    for number, (box, crop_box, image) in enumerate(faces):
      face = {
        "face": number,
        "box": [_round(v, 1) for v in box],
        "crop_box": [int(v) for v in crop_box],
        "p_fake": None,
      }
      record["faces"].append(face)
      pending.append(_Face(face, record, image))
    return record

  def _flush(
    self, pending: list[_Face], result: dict[str, Any], output_dir: pathlib.Path | None, prefix: str
  ) -> None:
    if not pending:
      return
    outputs = self.score_faces(np.stack([face.image for face in pending]))
    for row, face in enumerate(pending):
      face.record["p_fake"] = _round(outputs["p_fake"][row])
      frame = face.frame
      scores = [f["p_fake"] for f in frame["faces"] if f["p_fake"] is not None]
      frame["p_fake"] = (
        max(scores) if self.options.frame_score == "max" else _round(float(np.mean(scores)))
      )
      if (
        self.options.overlays
        and output_dir is not None
        and len(result["overlays"]) < self.options.max_overlays
      ):
        maps = {name: outputs[name][row] for name in steps.DENSE_OUTPUTS if name in outputs}
        path = (
          output_dir
          / "overlays"
          / (f"{prefix}_frame{frame['frame_index']:06d}_face{face.record['face']}.png")
        )
        title = (
          f"P(fake) {face.record['p_fake']:.3f} · frame {frame['frame_index']} face "
          f"{face.record['face']} · {result['file_name']}"
        ).replace("·", "-")
        gradcam.save_overlay(face.image, outputs["cam"][row], path, maps, title=title)
        result["overlays"].append(os.fspath(path))
    pending.clear()

  # Files ------------------------------------------------------------------------------------
  def _image(self, path: str, result: dict[str, Any], output_dir, prefix: str) -> None:
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
      raise _FileProblem("OpenCV recognises the file as an image but cannot decode it")
    result.update(kind="image", frame_count=1)
    pending: list[_Face] = []
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    result["frames"].append(self._new_frame(0, 0.0, rgb, pending))
    self._flush(pending, result, output_dir, prefix)

  def _selection(self, path: str, capture: cv2.VideoCapture) -> tuple[list[int] | None, int]:
    """Sorted frame indices to score (None: every every_n-th) and the reported frame count."""
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    if self.options.every_n:
      return None, max(count, 0)
    if count <= 0:
      count = video_io.reported_frame_count(path)  # counts by decoding; raises when empty
    return [
      int(i) for i in video_io.sample_frame_indices(count, self.options.frames_per_video)
    ], count

  def _video(self, path: str, result: dict[str, Any], output_dir, prefix: str) -> None:
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
      capture.release()
      raise _FileProblem(
        "cannot open: not an image or a video OpenCV reads (unsupported format or corrupt file)"
      )
    annotator = None
    try:
      fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
      selected, count = self._selection(path, capture)
      result.update(kind="video", frame_count=count, fps=_round(fps, 3))
      wanted = set(selected) if selected is not None else None
      last_wanted = max(selected) if selected else None
      every_n = self.options.every_n
      annotate = self.options.annotated_video and output_dir is not None
      pending: list[_Face] = []
      index = -1
      while True:
        index += 1
        chosen = (index % every_n == 0) if wanted is None else index in wanted
        if not annotate and wanted is not None and (last_wanted is None or index > last_wanted):
          break
        if not capture.grab():
          break
        if not (chosen or annotate):
          continue
        ok, frame = capture.retrieve()
        if not ok or frame is None or frame.ndim != 3:
          if chosen:
            result["frames"].append(
              {
                "frame_index": index,
                "time_s": None,
                "p_fake": None,
                "faces": [],
                "message": "cannot decode frame",
              }
            )
          continue
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        record = None
        if chosen:
          record = self._new_frame(index, fps, rgb, pending)
          result["frames"].append(record)
          if annotate or len(pending) >= self.options.batch_size:
            self._flush(pending, result, output_dir, prefix)
        if annotate:
          if annotator is None:
            annotator = _Annotator(
              output_dir / "annotated" / f"{prefix}.mp4",
              fps,
              (rgb.shape[1], rgb.shape[0]),
              self.options.threshold,
            )
            result["annotated_video"] = os.fspath(annotator.path)
          annotator.write(rgb, record)
      self._flush(pending, result, output_dir, prefix)
      decoded = index  # frames grabbed
      if index == 0:
        raise _FileProblem("the video holds no decodable frame")
      if wanted is not None:
        missing = sorted(i for i in wanted if i >= decoded)
        for i in missing:
          result["frames"].append(
            {
              "frame_index": i,
              "time_s": None,
              "p_fake": None,
              "faces": [],
              "message": f"truncated after frame {decoded - 1}",
            }
          )
      if not count:
        result["frame_count"] = decoded
    finally:
      capture.release()
      if annotator is not None:
        annotator.close()

  def predict_file(
    self, path: str | os.PathLike, output_dir: str | os.PathLike | None = None, *, number: int = 0
  ) -> dict[str, Any]:
    """The result of one file (module docstring); never raises for a bad file."""
    path = os.fspath(path)
    output_dir = pathlib.Path(output_dir) if output_dir is not None else None
    prefix = f"{number:03d}_{_slug(pathlib.Path(path).stem)}"
    result: dict[str, Any] = {
      "file": path,
      "file_name": pathlib.Path(path).name,
      "kind": None,
      "status": STATUS_ERROR,
      "message": None,
      "p_fake": None,
      "label": None,
      "frames_selected": 0,
      "frames_scored": 0,
      "frame_count": None,
      "fps": None,
      "frames": [],
      "overlays": [],
    }
    start = time.perf_counter()
    try:
      if not os.path.exists(path):
        raise _FileProblem("no such file")
      if not os.path.isfile(path):
        raise _FileProblem("not a file")
      if cv2.haveImageReader(path):
        self._image(path, result, output_dir, prefix)
      else:
        self._video(path, result, output_dir, prefix)
    except _FileProblem as problem:
      result["message"] = str(problem)
    except video_io.VideoReadError as error:
      result["message"] = error.reason
    except (cv2.error, OSError, ValueError) as error:
      result["message"] = f"{type(error).__name__}: {error}"
    result["frames"].sort(key=lambda frame: frame["frame_index"])
    scores = [frame["p_fake"] for frame in result["frames"] if frame["p_fake"] is not None]
    result["frames_selected"] = len(result["frames"])
    result["frames_scored"] = len(scores)
    if scores:
      result["status"] = STATUS_OK
      result["p_fake"] = _round(np.mean(scores))
      result["label"] = "fake" if result["p_fake"] >= self.options.threshold else "real"
    elif result["message"] is None:
      result["status"] = STATUS_NO_FACE
      result["message"] = (
        NO_FACE
        if result["kind"] == "image"
        else f"no face in any of the {len(result['frames'])} selected frames"
      )
    result["caveats"] = self.file_caveats(result)
    result["seconds"] = _round(time.perf_counter() - start, 3)
    return result

  # Caveats ----------------------------------------------------------------------------------
  def run_caveats(self) -> list[str]:
    """What holds for every file: the training domain of the detector."""
    corpus = str(self.train_config.dataset)
    if corpus.split("/")[0] in SYNTHETIC_CORPORA:
      return [
        f"the detector was trained on synthetic faces only ({corpus}); on real photographs "
        "and videos its P(fake) is not calibrated and says little (a real photograph "
        "can score as fake): use a detector trained on a real corpus for real media"
      ]
    return []

  def file_caveats(self, result: dict[str, Any]) -> list[str]:
    """Faces of a file whose crop is far from the training crop's resolution."""
    sides = [face["crop_box"][2] for frame in result["frames"] for face in frame["faces"]]
    if not sides:
      return []
    side, train = float(np.median(sides)), float(self.geometry.crop_size)
    if side >= RESOLUTION_FACTOR * train:
      return [
        f"its face crops are {side:.0f} px, {side / train:.0f}x the {train:.0f} px "
        "crops the detector was trained on: shrinking them removes the detail it "
        "learnt from, so its score may not mean what it does on its training data"
      ]
    if side * RESOLUTION_FACTOR <= train:
      return [
        f"its face crops are {side:.0f} px, 1/{train / side:.0f} of the {train:.0f} px "
        "crops the detector was trained on: enlarging them invents detail it never saw"
      ]
    return []


SYNTHETIC_CORPORA = ("synthetic_faces",)


def summary_line(report: dict[str, Any]) -> str:
  """'4 files: 2 scored (1 fake, 1 real), 1 without a face, 1 failed'."""
  files = report["files"]
  ok = [f for f in files if f["status"] == STATUS_OK]
  fakes = sum(f["label"] == "fake" for f in ok)
  parts = [f"{len(ok)} scored ({fakes} fake, {len(ok) - fakes} real)"]
  no_face = sum(f["status"] == STATUS_NO_FACE for f in files)
  failed = sum(f["status"] == STATUS_ERROR for f in files)
  if no_face:
    parts.append(f"{no_face} without a face")
  if failed:
    parts.append(f"{failed} failed")
  return f"{len(files)} file{'s' if len(files) != 1 else ''}: " + ", ".join(parts)


def exit_code(report: dict[str, Any]) -> int:
  """0 when every file was scored, 1 when any failed or showed no face."""
  return 0 if all(f["status"] == STATUS_OK for f in report["files"]) else 1


class _FileProblem(Exception):
  """A file that cannot be scored; the message says why."""


def _write_csv(path: pathlib.Path, columns: Sequence[str], rows: Iterator[dict]) -> pathlib.Path:
  with open(path, "w", newline="") as handle:
    writer = csv.DictWriter(handle, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
      writer.writerow({name: "" if row.get(name) is None else row.get(name) for name in columns})
  return path


def write_outputs(report: dict[str, Any], output_dir: str | os.PathLike) -> dict[str, str]:
  """predictions.json, files.csv, frames.csv and faces.csv of a `predict_files` report."""
  output_dir = pathlib.Path(output_dir)
  output_dir.mkdir(parents=True, exist_ok=True)
  files = report["files"]
  paths = {
    "json": output_dir / "predictions.json",
    "files_csv": _write_csv(output_dir / "files.csv", FILE_COLUMNS, iter(files)),
    "frames_csv": _write_csv(
      output_dir / "frames.csv",
      FRAME_COLUMNS,
      (
        {"file": f["file"], **frame, "faces": len(frame["faces"])}
        for f in files
        for frame in f["frames"]
      ),
    ),
    "faces_csv": _write_csv(
      output_dir / "faces.csv",
      FACE_COLUMNS,
      (
        {
          "file": f["file"],
          "frame_index": frame["frame_index"],
          "face": face["face"],
          **dict(zip(("left", "top", "right", "bottom"), face["box"])),
          "p_fake": face["p_fake"],
        }
        for f in files
        for frame in f["frames"]
        for face in frame["faces"]
      ),
    ),
  }
  paths = {name: os.fspath(path) for name, path in paths.items()}
  report["paths"] = paths
  pathlib.Path(paths["json"]).write_text(json.dumps(report, indent=2))
  return paths


def predict_files(
  workdir: str | os.PathLike,
  paths: Sequence[str | os.PathLike],
  output_dir: str | os.PathLike | None = None,
  *,
  devices=None,
  predictor: Predictor | None = None,
  **options,
) -> dict[str, Any]:
  """Scores every file of `paths` with the detector of `workdir`; writes and returns the report.

  `options` are the fields of `PredictOptions`. `output_dir` defaults to `<workdir>/predict`.
  Raises FileNotFoundError (naming `python -m fakenas_jax.train --workdir=…`) when the workdir
  holds no trained detector; a bad file never raises (its entry says why).
  """
  if predictor is None:
    predictor = Predictor(workdir, PredictOptions(**options), devices=devices)
  elif options:
    raise ValueError("give either a predictor or options, not both")
  output_dir = pathlib.Path(output_dir or pathlib.Path(workdir) / "predict")
  output_dir.mkdir(parents=True, exist_ok=True)
  start = time.perf_counter()
  files = [
    predictor.predict_file(path, output_dir, number=number) for number, path in enumerate(paths)
  ]
  opts = predictor.options
  report = {
    "workdir": os.fspath(workdir),
    "model": predictor.train_config.model.name,
    "training_corpus": predictor.train_config.dataset,
    "checkpoint": predictor.checkpoint,
    "checkpoint_step": int(predictor.meta["step"]),
    "epoch": int(predictor.meta.get("epoch", 0)),
    "image_size": predictor.image_size,
    "crop": dataclasses.asdict(predictor.geometry),
    "frames_per_video": None if opts.every_n else opts.frames_per_video,
    "every_n": opts.every_n or None,
    "threshold": opts.threshold,
    "gradcam_layer": predictor.layer or None,
    "frame_score": FRAME_SCORES[opts.frame_score],
    "file_score": "mean P(fake) over the file's frames with a face",
    "face_detector": opts.detector,
    "min_face_score": (
      opts.min_face_score
      if opts.min_face_score is not None
      else detection.DEFAULT_MIN_SCORE[opts.detector]
    ),
    "caveats": predictor.run_caveats(),
    "seconds": _round(time.perf_counter() - start, 3),
    "files": files,
  }
  write_outputs(report, output_dir)
  return report
