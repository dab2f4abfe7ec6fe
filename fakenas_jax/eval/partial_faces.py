"""Partial-face manipulation test sets (BiG-Arts §4.3, Fig. 8, Table 7).

Only one part of a fake face is kept: the region of the fake frame is pasted into its real
(pristine) frame, x = R ⊙ fake + (1 - R) ⊙ real, for R one of

* `eyes`: the hulls of the two eyes (landmarks 36–41, 42–47), grown by a margin;
* `nose`: the hull of the nose (27–35), grown by the margin;
* `mouth`: the hull of the outer lips (48–59), grown by the margin;
* `upper` / `lower`: the face hull (all 68 landmarks) on either side of the line through the
  middle of the nose (halfway between the eyes' centre and the mouth's centre), perpendicular to
  the face's vertical axis (eyes' centre → mouth centre);
* `left` / `right`: the face hull on either side of the face's vertical axis through the eyes'
  centre, as seen in the image (`left` holds the subject's right eye, landmarks 36–41).

The margin is max(1, round(0.15 × the distance between the eye centres)). Regions come from the
fake frame's landmarks. A partial fake whose region changed no pixel (by more than the
intrinsic-mask threshold) is left out, e.g. the eyes of a mouth re-enactment; so are fakes
synthesised whole-frame (no pristine frame lines up with them: their changed region covers
the frame).

A corpus qualifies when its fakes have aligned real frames. The synthetic corpus does: a fake's
untouched pixels equal the real video of the same seed and target. Both are re-rendered here
(`generate_video` with the fake's `VideoSpec`, once with its method and once 'real'),
uncompressed; each partial fake is composed from them and then JPEG-compressed at the video's
quality, as the builder compresses every frame (so the `full` set is the stored fakes, byte for
byte). Other corpora are refused with `UnpairedCorpusError`.

Each region's test set is the split's real frames (label 0) plus that region's partial fakes
(label 1), as an in-memory source for `data.pipeline.make_pipeline`; `full` is the same fakes
unmodified, the reference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from fakenas_jax.data import masks
from fakenas_jax.data import pipeline as pipeline_lib

REGIONS = ("eyes", "nose", "mouth", "lower", "upper", "left", "right")
RIGHT_EYE = tuple(range(36, 42))  # the subject's right eye: the image's left for a frontal face
LEFT_EYE = tuple(range(42, 48))
NOSE = tuple(range(27, 36))
OUTER_LIPS = tuple(range(48, 60))
MOUTH = tuple(range(48, 68))
MARGIN_SHARE = 0.15  # of the distance between the eye centres
WHOLE_FRAME_SHARE = 0.95  # a fake whose changed region covers this much of the frame is whole


class UnpairedCorpusError(ValueError):
  """The corpus has no fake frames with aligned real frames to paste regions into."""


def _hull(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  mask = np.zeros(shape, np.uint8)
  hull = cv2.convexHull(np.round(points).astype(np.int32).reshape(-1, 1, 2))
  cv2.fillConvexPoly(mask, hull, 255)
  return mask


def face_axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """(eyes' centre, mouth centre, unit vector eyes → mouth ("down"), "right" a quarter turn)."""
  landmarks = np.asarray(landmarks, np.float64)
  eyes = (landmarks[list(RIGHT_EYE)].mean(axis=0) + landmarks[list(LEFT_EYE)].mean(axis=0)) / 2
  mouth = landmarks[list(MOUTH)].mean(axis=0)
  down = mouth - eyes
  length = np.linalg.norm(down)
  if length == 0:
    raise ValueError("the eyes and the mouth are at one point; cannot orient the face")
  down /= length
  right = np.array([down[1], -down[0]])  # image x for an upright face
  return eyes, mouth, down, right


def region_mask(region: str, landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
  """uint8 {0, 255} (H, W): the region of a face with 68 landmarks (module docstring)."""
  if region not in REGIONS:
    raise ValueError(f"unknown region {region!r}; use one of {REGIONS}")
  landmarks = np.asarray(landmarks, np.float64).reshape(68, 2)
  eye_distance = np.linalg.norm(
    landmarks[list(RIGHT_EYE)].mean(axis=0) - landmarks[list(LEFT_EYE)].mean(axis=0)
  )
  margin = max(1, int(round(MARGIN_SHARE * eye_distance)))
  if region in ("eyes", "nose", "mouth"):
    parts = {"eyes": (RIGHT_EYE, LEFT_EYE), "nose": (NOSE,), "mouth": (OUTER_LIPS,)}[region]
    mask = np.zeros(shape, np.uint8)
    for part in parts:
      mask |= _hull(landmarks[list(part)], shape)
    return masks.dilate(mask, margin)
  face = _hull(landmarks, shape)
  eyes, mouth, down, right = face_axes(landmarks)
  ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
  pixels = np.stack([xs, ys], axis=-1).astype(np.float64)
  if region in ("upper", "lower"):
    side = (pixels - (eyes + mouth) / 2) @ down  # > 0 below the middle of the nose
    keep = side < 0 if region == "upper" else side >= 0
  else:
    side = (pixels - eyes) @ right  # > 0 on the image's right
    keep = side < 0 if region == "left" else side >= 0
  return np.where(keep, face, 0).astype(np.uint8)


def paste_region(fake: np.ndarray, real: np.ndarray, region: np.ndarray) -> np.ndarray:
  """R ⊙ fake + (1 - R) ⊙ real, R a {0, 255} mask (H, W)."""
  return np.where(region[..., None] > 0, fake, real).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Aligned real frames of the fakes of a corpus.


@dataclasses.dataclass(frozen=True, eq=False)
class PairedVideo:
  """A fake video and its aligned real video, frame by frame, before the corpus's compression."""

  fake: list[np.ndarray]  # uint8 (H, W, 3) by frame index
  real: list[np.ndarray]
  landmarks: list[np.ndarray]  # the fake's (68, 2)
  quality: int  # JPEG quality the corpus compresses this video's frames at; 0 = lossless


def _synthetic_pairs(builder, split: str, video_ids: Sequence[str]) -> dict[str, PairedVideo]:
  """Re-renders each fake video and the real video of its seed and target, uncompressed."""
  from fakenas_jax.data import synthetic  # pylint: disable=import-outside-toplevel
  from fakenas_jax.data.synthetic import plan  # pylint: disable=import-outside-toplevel

  config = builder.builder_config
  specs = {spec.video_id: spec for spec in plan.video_specs(config, split)}
  recipe = synthetic.RECIPES[config.recipe]
  pairs = {}
  for video_id in video_ids:
    spec = specs.get(video_id)
    if spec is None or spec.method == "real":
      raise UnpairedCorpusError(f"video {video_id!r} is not a fake of the plan of {split}")
    videos = [
      synthetic.generate_video(
        recipe,
        seed=spec.seed,
        target_identity=spec.target_identity,
        source_identity=None if method == "real" else spec.source_identity,
        method=method,
        num_frames=config.frames_per_video,
        resolution=config.resolution,
      )
      for method in (spec.method, "real")
    ]
    pairs[video_id] = PairedVideo(
      fake=[frame.image for frame in videos[0].frames],
      real=[frame.image for frame in videos[1].frames],
      landmarks=[frame.landmarks for frame in videos[0].frames],
      quality=videos[0].quality,
    )
  return pairs


# Corpus name → f(builder, split, fake video ids) → {video id: PairedVideo}.
PAIRED_CORPORA: dict[str, Callable[..., dict[str, PairedVideo]]] = {
  "synthetic_faces": _synthetic_pairs,
}


def paired_videos(builder, split: str, video_ids: Sequence[str]) -> dict[str, PairedVideo]:
  """The fake videos `video_ids` with their aligned real videos; `UnpairedCorpusError` when the
  corpus has none."""
  name = builder.info.name
  if name not in PAIRED_CORPORA:
    raise UnpairedCorpusError(
      f"corpus {name} has no fake frames with aligned real frames (partial-face sets need "
      f"them); corpora that have: {', '.join(sorted(PAIRED_CORPORA))}"
    )
  return PAIRED_CORPORA[name](builder, split, video_ids)


def _encoded(image: np.ndarray, quality: int) -> bytes:
  """The frame as the corpus stores it: JPEG at `quality`, PNG when 0."""
  flag = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if quality else [cv2.IMWRITE_PNG_COMPRESSION, 1]
  ok, data = cv2.imencode(
    ".jpg" if quality else ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), flag
  )
  if not ok:
    raise RuntimeError("OpenCV could not encode a frame")
  return data.tobytes()


# ----------------------------------------------------------------------------------------------
# The test sets.


@dataclasses.dataclass(frozen=True, eq=False)
class PartialSets:
  """The region test sets of one split: in-memory sources for `make_pipeline`."""

  sources: dict[str, list[dict[str, Any]]]  # region (and 'full') → records
  fakes: dict[str, int]  # region → partial fakes kept
  reals: int
  skipped: dict[str, int]  # why → fakes (or region fakes) left out


def build_partial_sets(
  builder,
  split: str,
  source: Any,
  selected: np.ndarray,
  table: pipeline_lib.FrameTable,
  regions: Sequence[str] = REGIONS,
) -> PartialSets:
  """Partial-face test sets from the `selected` records of `source` (one split of `builder`).

  The partial fakes of a fake frame are composed from the uncompressed fake and real frames of
  its pair and then compressed as the corpus compresses that video, so they went through what
  every corpus frame went through.
  """
  regions = tuple(regions)
  unknown = sorted(set(regions) - set(REGIONS))
  if unknown:
    raise ValueError(f"unknown region(s) {unknown}; use some of {REGIONS}")
  selected = np.asarray(selected, np.int64)
  fakes = selected[table.label[selected] == 1]
  reals = selected[table.label[selected] == 0]
  if not len(fakes) or not len(reals):
    raise ValueError(
      f"partial-face sets need real and fake frames; the selection has "
      f"{len(reals)} real and {len(fakes)} fake"
    )
  pairs = paired_videos(builder, split, sorted({table.video_ids[v] for v in table.video[fakes]}))
  reader = pipeline_lib.RecordReader(source)

  def metadata(record: int, label: int, method: str) -> dict[str, Any]:
    return {
      "label": label,
      "video_id": table.video_ids[table.video[record]],
      "frame_index": int(table.frame_index[record]),
      "method": method,
    }

  real_records = [
    {"image": reader.read(int(record), ("image",))["image"], **metadata(int(record), 0, "real")}
    for record in reals
  ]
  sources = {name: list(real_records) for name in ("full",) + regions}
  kept = {name: 0 for name in ("full",) + regions}
  skipped = {"whole_frame": 0, **{f"{name}_unchanged": 0 for name in regions}}
  for record in fakes:
    record = int(record)
    pair = pairs[table.video_ids[table.video[record]]]
    frame = int(table.frame_index[record])
    fake, real, landmarks = pair.fake[frame], pair.real[frame], pair.landmarks[frame]
    if (masks.intrinsic_mask(real, fake) > 0).mean() >= WHOLE_FRAME_SHARE:
      skipped["whole_frame"] += 1
      continue
    method = table.method_names[table.method[record]]
    sources["full"].append({"image": _encoded(fake, pair.quality), **metadata(record, 1, method)})
    kept["full"] += 1
    for name in regions:
      composite = paste_region(fake, real, region_mask(name, landmarks, fake.shape[:2]))
      if not masks.changed_pixels(real, composite).any():
        skipped[f"{name}_unchanged"] += 1
        continue
      sources[name].append(
        {"image": _encoded(composite, pair.quality), **metadata(record, 1, method)}
      )
      kept[name] += 1
  return PartialSets(sources=sources, fakes=kept, reals=len(reals), skipped=skipped)
