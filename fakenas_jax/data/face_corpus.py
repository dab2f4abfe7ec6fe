"""Video face corpora (FF++, Celeb-DF, ...) as TFDS builders: the base every corpus builder extends.

A corpus builder (`tfds_builders/<corpus>/`) only reads its official layout: it lists its videos
as `VideoItem`s, each with its split, label, method and identity. This base does the rest:

* checks the manual directory (missing or lacking expected files -> `ManualDirError`, naming
  what was expected where);
* skips, and reports in `skipped`, every listed video that resolves (symlinks followed) outside
  the manual directory, is not on disk, cannot be decoded or shows no face, and every sampled
  frame without a face (never a crash on one bad video). A split or metadata file is data, not
  a licence to read anywhere: `outside_manual_dir` is the one check every builder applies to
  the paths it derives from such files (`..` components, absolute paths, symlinks out);
* turns each video into one example per sampled frame through `data.faces.process_video`
  (`frames_per_video` frames, evenly spaced; largest face, cropped with a margin, 68 landmarks,
  masks), in worker processes (in this process when the pool breaks), with a progress bar.

Examples follow the data model (WORKSPACE.md, Data model): `image` (crop_size x crop_size RGB face crop, PNG:
no second lossy compression on top of the corpus's own), `label` (0 real / 1 fake), `video_id`,
`frame_index` (in the video), `method` (`real` or the manipulation method), `landmarks` (68 x 2,
dlib layout, crop pixels), `identity` / `source_identity` (person ids of the corpus, '' when
not known), and three masks stored as {0, 255} PNG:

* `face_hull` — the filled convex hull of the landmarks (ADD §III-D, potential manipulation
  region);
* `intrinsic` / `extrinsic` — BiG-Arts §3.1: the synthesised region, and its boundary band
  D(M_in) - E(M_in). They are all zero for real frames (nothing synthesised). For a fake they
  come from the corpus's own mask video (FF++) or from the difference with the aligned real
  video; where a corpus offers neither, they are all zero and `has_artifact_masks` is False.
  A trainer of the mask heads must read that flag (it is True for every real frame, whose
  zero masks are exact).

Frame folders (WildDeepfake's face sequences, VidTIMIT's recordings) are read as videos: their
image files in numeric order are the frames, sampled as a video's are, and the sampled ones go to
the face pipeline as a lossless (FFV1) video.

Keys are `<video_id>/<frame index>`: `video_id` is the path below the manual directory without
its suffix, so keys are unique and the same in every build. Workers change the order videos are
read in, never what is written (each video is processed alone).

Splits: `train`, `validation` and `test` always exist. `protocol='official'` follows the corpus's
own split (a corpus without a validation split gives `validation_fraction` of its training
groups to validation); `protocol='ratio'` is FD-NAS §4.1's 8:1:1 split (`split_ratios`) for
corpora without one. Ratio splits are identity-disjoint and depend only on the set of group
ids: groups are ranked by SHA-256 of `corpus:group`, and consecutive runs of that ranking of the
ratio's sizes (largest remainder) form the splits — never on the order files are listed in.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import hashlib
import os
import pathlib
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from fakenas_jax.data import preparation, workers

if TYPE_CHECKING:
  from fakenas_jax.data import faces

SPLITS = ("train", "validation", "test")
PROTOCOLS = ("official", "ratio")
REAL_METHOD = "real"
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class ManualDirError(preparation.DataDirError):
  """The manual directory of a gated corpus is missing or lacks files the corpus needs.

  A `DataDirError`, so `python -m fakenas_jax.prepare` prints it as a one-line error.
  """


class EmptySplitError(ManualDirError):
  """A split in which no listed video gave an example (TFDS cannot write an empty split)."""


@dataclasses.dataclass(frozen=True)
class VideoItem:
  """One video (or face-sequence folder) of a corpus, as its official layout describes it."""

  path: str  # absolute path of the video file or frame folder
  label: int  # 0 real, 1 fake
  video_id: str  # unique in the corpus: the path below the manual directory, without suffix
  method: str  # 'real' or the manipulation method
  split: str  # one of SPLITS
  identity: str = ""  # the person shown (the target of a fake); '' when not known
  source_identity: str = ""  # the donor of a fake; '' for real videos or when not known
  source_path: str | None = None  # the aligned real video of a fake (BiG-Arts masks)
  mask_path: str | None = None  # the corpus's own manipulation-mask video (FF++)

  def __post_init__(self):
    if self.label not in (0, 1):
      raise ValueError(f"{self.video_id}: label must be 0 (real) or 1 (fake), got {self.label!r}")
    if self.split not in SPLITS:
      raise ValueError(f"{self.video_id}: split must be one of {SPLITS}, got {self.split!r}")
    if (self.label == 0) != (self.method == REAL_METHOD):
      raise ValueError(
        f"{self.video_id}: method {self.method!r} does not match label "
        f"{self.label} (real videos, and only they, have method 'real')"
      )


@dataclasses.dataclass(kw_only=True)
class FaceCorpusConfig(tfds.core.BuilderConfig):
  """Split protocol and face-crop settings of one video face corpus config."""

  protocol: str = "official"
  split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, validation, test
  validation_fraction: float = 0.2  # of the official training groups, where there is no val
  frames_per_video: tuple[int, int, int] = (20, 10, 10)  # train, validation, test (FD-NAS)
  crop_size: int = 64
  margin: float = 0.3
  detector: str = "hog"  # or 'cnn' (dlib's MMOD CNN; data.faces.detection)
  min_face_score: float | None = None  # None: the detector's calibrated default

  def __post_init__(self):
    if self.detector not in ("hog", "cnn"):
      raise ValueError(f"detector must be 'hog' or 'cnn', got {self.detector!r}")
    if self.protocol not in PROTOCOLS:
      raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {self.protocol!r}")
    if len(self.split_ratios) != 3 or min(self.split_ratios) <= 0:
      raise ValueError(
        "split_ratios must be 3 positive numbers (train, validation, test; every "
        f"split needs videos), got {self.split_ratios}"
      )
    if not 0 < self.validation_fraction < 1:
      raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
    if len(self.frames_per_video) != 3 or min(self.frames_per_video) < 1:
      raise ValueError(
        "frames_per_video must be 3 positive ints (train, validation, test), "
        f"got {self.frames_per_video}"
      )
    if self.crop_size < 16:
      raise ValueError(f"crop_size must be >= 16, got {self.crop_size}")
    if not 0 <= self.margin <= 2:
      raise ValueError(f"margin must be in [0, 2], got {self.margin}")


def _exists(path: str | None) -> bool:
  return path is not None and os.path.exists(path)


def split_sizes(count: int, ratios: Sequence[float]) -> list[int]:
  """`count` groups cut by `ratios` (largest remainder); every positive ratio gets >= 1 group
  when there are enough groups."""
  ratios = np.asarray(ratios, np.float64) / float(np.sum(ratios))
  exact = np.round(ratios * count, 9)  # 0.1 / 1.0000000000000002 * 10 is 1, not 0.99...
  sizes = np.floor(exact).astype(int)
  order = sorted(range(len(ratios)), key=lambda i: (-(exact[i] - sizes[i]), i))
  for i in order[: count - int(sizes.sum())]:
    sizes[i] += 1
  positive = [i for i in range(len(ratios)) if ratios[i] > 0]
  if count >= len(positive):
    for i in positive:
      if sizes[i] == 0:
        sizes[int(np.argmax(sizes))] -= 1
        sizes[i] = 1
  return [int(s) for s in sizes]


def group_rank_key(salt: str, group: str) -> tuple[str, str]:
  """The position of `group` in the fixed ranking that ratio splits cut."""
  return hashlib.sha256(f"{salt}:{group}".encode()).hexdigest(), group


def assign_groups(
  groups: Iterable[str], ratios: Sequence[float], *, salt: str, names: Sequence[str] = SPLITS
) -> dict[str, str]:
  """group -> split name: identity-disjoint, deterministic from the group ids (module docstring)."""
  ranked = sorted(set(groups), key=lambda group: group_rank_key(salt, group))
  assignment, start = {}, 0
  for name, size in zip(names, split_sizes(len(ranked), ratios)):
    for group in ranked[start : start + size]:
      assignment[group] = name
    start += size
  return assignment


def ratio_splits(
  items: Sequence[VideoItem],
  config: FaceCorpusConfig,
  *,
  salt: str,
  group_of=lambda item: item.identity,
) -> list[VideoItem]:
  """`items` with their split replaced: FD-NAS's 8:1:1 split by group (identity by default).

  Only the groups of videos on disk take part (an item whose file is missing keeps its split
  and is reported as not found), so a missing download cannot leave a split empty.
  """
  assignment = assign_groups(
    (group_of(item) for item in items if _exists(item.path)), config.split_ratios, salt=salt
  )
  return [
    dataclasses.replace(item, split=assignment[group_of(item)])
    if group_of(item) in assignment
    else item
    for item in items
  ]


def hold_out_validation(
  items: Sequence[VideoItem],
  config: FaceCorpusConfig,
  *,
  salt: str,
  group_of=lambda item: item.identity,
) -> list[VideoItem]:
  """Moves `validation_fraction` of the training groups (whole groups, of videos on disk) to
  `validation`."""
  train_groups = {group_of(item) for item in items if item.split == "train" and _exists(item.path)}
  fraction = config.validation_fraction
  assignment = assign_groups(
    train_groups, (1 - fraction, fraction), salt=salt, names=("train", "validation")
  )
  return [
    dataclasses.replace(item, split=assignment[group_of(item)])
    if item.split == "train" and group_of(item) in assignment
    else item
    for item in items
  ]


def outside_manual_dir(path: str | os.PathLike, manual_dir: str | os.PathLike) -> str | None:
  """Why `path` may not be read, or None: it must resolve inside `manual_dir`.

  Both are resolved first (`..` components and every symlink followed, also for paths that do
  not exist), so `original_videos/../../x.mp4`, an absolute path in a split file and a symlink
  that points out of the manual directory are all refused. A symlink between folders of the
  manual directory is fine.
  """
  root = os.path.realpath(manual_dir)
  resolved = os.path.realpath(path)
  if resolved == root or os.path.commonpath([resolved, root]) != root:
    return f"resolves outside the manual directory (to {resolved})"
  return None


def _outside_reason(item: VideoItem, manual_dir: pathlib.Path) -> str | None:
  """`outside_manual_dir` of every file an item would read: the video (every frame of a frame
  folder), its aligned real video and its mask video."""
  reason = outside_manual_dir(item.path, manual_dir)
  if reason:
    return reason
  if os.path.isdir(item.path):
    for frame in frame_files(item.path):
      reason = outside_manual_dir(frame, manual_dir)
      if reason:
        return f"frame {frame.name} {reason}"
  for what, path in (("aligned real video", item.source_path), ("mask video", item.mask_path)):
    reason = path and outside_manual_dir(path, manual_dir)
    if reason:
      return f"{what} {reason}"
  return None


def _skip(item: VideoItem, reason: str, frame: int | None = None) -> dict[str, str]:
  name = item.video_id if frame is None else f"{item.video_id} frame {frame}"
  return {"split": item.split, "item": name, "reason": reason}


def _frame_sort_key(path: pathlib.Path) -> tuple:
  stem = path.stem if path.suffix.lower() in FRAME_SUFFIXES else path.name
  return (0, int(stem), path.name) if stem.isdigit() else (1, 0, path.name)


def frame_files(folder: str | os.PathLike) -> list[pathlib.Path]:
  """The frames of a frame folder (images, or suffix-less files as VidTIMIT's), in frame order:
  numeric names by number ('2' before '10'), then the others by name."""
  files = [
    path
    for path in pathlib.Path(folder).iterdir()
    if path.is_file() and (path.suffix.lower() in FRAME_SUFFIXES or not path.suffix)
  ]
  return sorted(files, key=_frame_sort_key)


def folder_as_video(
  folder: str | os.PathLike, num_frames: int, video_path: str | os.PathLike
) -> tuple[np.ndarray, list[tuple[int, str]]]:
  """Writes the sampled frames of a frame folder as a lossless (FFV1) video for the face pipeline.

  Returns the folder frame index of each written frame, and the sampled frames that did not
  decode. Frames are sampled as the pipeline samples a video (`sample_frame_indices`); a frame
  whose size differs from the first decoded one is resized to it (a video has one frame size).
  """
  import cv2

  from fakenas_jax.data import faces

  files = frame_files(folder)
  wanted = faces.sample_frame_indices(len(files), num_frames) if files else []
  written, failures, writer, size = [], [], None, None
  try:
    for index in wanted:
      frame = cv2.imread(str(files[index]), cv2.IMREAD_COLOR)
      if frame is None:
        failures.append((int(index), "cannot decode frame"))
        continue
      if writer is None:
        size = (frame.shape[1], frame.shape[0])
        writer = cv2.VideoWriter(os.fspath(video_path), cv2.VideoWriter_fourcc(*"FFV1"), 25, size)
      if (frame.shape[1], frame.shape[0]) != size:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
      writer.write(frame)
      written.append(int(index))
  finally:
    if writer is not None:
      writer.release()
  return np.asarray(written, np.int64), failures


def _process(
  item: VideoItem, crop: faces.FaceCropConfig
) -> tuple[faces.ProcessedVideo, list[tuple[int, str]]]:
  """`faces.process_video` of a video file, or of a frame folder (written as a video first)."""
  from fakenas_jax.data import faces

  if not os.path.isdir(item.path):
    return faces.process_video(
      item.path, crop, source_path=item.source_path, mask_path=item.mask_path
    ), []
  with tempfile.TemporaryDirectory(prefix="frames_") as scratch:
    video = os.path.join(scratch, "frames.avi")
    indices, failures = folder_as_video(item.path, crop.num_frames, video)
    if not len(indices):
      reason = "no frames" if not failures else "no frame decodes"
      return faces.ProcessedVideo([], 0, [], reason), failures
    crop = dataclasses.replace(crop, num_frames=len(indices))
    processed = faces.process_video(video, crop)
  for example in processed.examples:
    example.frame_index = int(indices[example.frame_index])
  processed.skipped_frames = [
    (int(indices[frame]), reason) for frame, reason in processed.skipped_frames
  ]
  processed.frame_count = len(frame_files(item.path))
  return processed, failures


def item_examples(
  item: VideoItem,
  crop_size: int,
  margin: float,
  num_frames: int,
  detector: str = "hog",
  min_face_score: float | None = None,
) -> tuple[list[tuple[str, dict]], list[dict[str, str]]]:
  """One video -> its (key, example) pairs and what was skipped (the whole video, or frames)."""
  from fakenas_jax.data import faces  # dlib and the face models load only where videos are read.

  crop = faces.FaceCropConfig(
    crop_size=crop_size,
    margin=margin,
    num_frames=num_frames,
    detector=detector,
    min_face_score=min_face_score,
  )
  processed, failures = _process(item, crop)
  processed.skipped_frames = sorted(list(processed.skipped_frames) + failures)
  if processed.skip_reason:
    return [], [_skip(item, processed.skip_reason)]
  skipped = [_skip(item, reason, frame) for frame, reason in processed.skipped_frames]
  if not processed.examples:
    return [], skipped + [_skip(item, "no usable frame")]
  empty = np.zeros((crop_size, crop_size, 1), np.uint8)
  examples = []
  for example in processed.examples:
    if item.label == 0:
      intrinsic, extrinsic, has_masks = empty, empty, True
    elif example.intrinsic is None or example.extrinsic is None:
      intrinsic, extrinsic, has_masks = empty, empty, False
    else:
      intrinsic, extrinsic, has_masks = example.intrinsic, example.extrinsic, True
    examples.append(
      (
        f"{item.video_id}/{example.frame_index:06d}",
        {
          "image": faces.encode_png(example.image),
          "face_hull": faces.encode_png(example.face_hull),
          "intrinsic": faces.encode_png(intrinsic),
          "extrinsic": faces.encode_png(extrinsic),
          "has_artifact_masks": has_masks,
          "label": item.label,
          "video_id": item.video_id,
          "frame_index": int(example.frame_index),
          "method": item.method,
          "landmarks": np.asarray(example.landmarks, np.float32),
          "identity": item.identity,
          "source_identity": item.source_identity,
        },
      )
    )
  return examples, skipped


class FaceVideoCorpusBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """The base of the video face corpus builders; a corpus defines `required_paths` and
  `list_videos` (and its configs, `MANUAL_DOWNLOAD_INSTRUCTIONS`, `VERSION`)."""

  def __init__(self, *, num_workers: int | None = None, progress: bool = True, **kwargs):
    self._num_workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
    self._progress = progress
    self.skipped: list[dict[str, str]] = []
    super().__init__(**kwargs)

  # What a corpus defines.

  @abc.abstractmethod
  def required_paths(self) -> list[tuple[str, ...]]:
    """Paths below the manual directory that must exist; each entry lists accepted alternatives."""

  @abc.abstractmethod
  def list_videos(self, manual_dir: pathlib.Path) -> list[VideoItem]:
    """Every video of the config with its split; a video a split list names may be absent (it is
    then reported as not found). Problems with single entries go to `self.skipped`."""

  # The shared part.

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.crop_size
    mask = lambda: tfds.features.Image(shape=(size, size, 1), encoding_format="png")
    return tfds.core.DatasetInfo(
      builder=self,
      description=type(self).__doc__ or "",
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=(size, size, 3), encoding_format="png"),
          "face_hull": mask(),
          "intrinsic": mask(),
          "extrinsic": mask(),
          "has_artifact_masks": np.bool_,
          "label": tfds.features.ClassLabel(names=["real", "fake"]),
          "video_id": tfds.features.Text(),
          "frame_index": np.int32,
          "method": tfds.features.Text(),
          "landmarks": tfds.features.Tensor(shape=(68, 2), dtype=np.float32),
          "identity": tfds.features.Text(),
          "source_identity": tfds.features.Text(),
        }
      ),
      supervised_keys=("image", "label"),
    )

  def checked_manual_dir(self, dl_manager) -> pathlib.Path:
    """The manual directory, after checking it holds what `required_paths` names."""
    title = f"{self.name}/{self.builder_config.name}"
    try:
      manual_dir = pathlib.Path(dl_manager.manual_dir)
    except AssertionError as error:  # TFDS's way to say: missing or empty.
      raise ManualDirError(f"{title}: {error}") from None
    missing = [
      alternatives
      for alternatives in self.required_paths()
      if not any((manual_dir / path).exists() for path in alternatives)
    ]
    if missing:
      lines = "\n".join(
        f"  {' or '.join(str(manual_dir / p) for p in alternatives)}" for alternatives in missing
      )
      raise ManualDirError(
        f"{title}: the manual directory {manual_dir} lacks files the corpus needs; "
        f"missing:\n{lines}\nExpected layout:\n{self.MANUAL_DOWNLOAD_INSTRUCTIONS}"
      )
    return manual_dir

  def _split_generators(self, dl_manager):
    manual_dir = self.checked_manual_dir(dl_manager)
    by_split = self.videos_by_split(manual_dir)
    return {split: self._generate_examples(split, by_split[split]) for split in SPLITS}

  def videos_by_split(self, manual_dir: pathlib.Path) -> dict[str, list[VideoItem]]:
    """The videos a build reads, per split, after the checks; what fails one is in `skipped`
    (reset here): outside the manual directory, listed twice, not found."""
    self.skipped = []
    items = self.list_videos(manual_dir)
    seen: set[str] = set()
    by_split: dict[str, list[VideoItem]] = {split: [] for split in SPLITS}
    for item in items:
      outside = _outside_reason(item, manual_dir)
      if outside:
        self.skipped.append(_skip(item, outside))
        continue
      if item.video_id in seen:
        self.skipped.append(_skip(item, "listed twice"))
        continue
      seen.add(item.video_id)
      if not _exists(item.path):
        self.skipped.append(_skip(item, "file not found"))
        continue
      if item.source_path and not _exists(item.source_path):
        logging.warning(
          "%s: aligned real video %s of %s not found; its artifact masks stay empty",
          self.name,
          item.source_path,
          item.video_id,
        )
        item = dataclasses.replace(item, source_path=None)
      if item.mask_path and not _exists(item.mask_path):
        item = dataclasses.replace(item, mask_path=None)
      by_split[item.split].append(item)
    return by_split

  def _generate_examples(self, split: str, items: list[VideoItem]) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    num_frames = config.frames_per_video[SPLITS.index(split)]
    jobs = [
      (item, config.crop_size, config.margin, num_frames, config.detector, config.min_face_score)
      for item in items
    ]
    count = 0
    for examples, skipped in self._map(jobs, f"{self.name} {split}"):
      self.skipped.extend(skipped)
      count += len(examples)
      yield from examples
    if not count:
      reasons = collections.Counter(
        entry["reason"] for entry in self.skipped if entry["split"] == split
      )
      raise EmptySplitError(
        f"{self.name}/{config.name}: no usable video in the {split} split ({len(items)} "
        f"found on disk; skipped: {dict(reasons) or 'none listed'}). Check the manual "
        "directory and the skip reasons."
      )

  def _map(self, jobs: list[tuple], label: str) -> Iterator:
    """`item_examples` over `jobs`, in order: in worker processes, or here with one worker."""
    return workers.map_in_workers(
      item_examples,
      jobs,
      num_workers=self._num_workers,
      label=label,
      progress=self._progress,
      unit="video",
    )


def relative_id(path: pathlib.Path, root: pathlib.Path) -> str:
  """A video id: `path` below `root`, '/'-separated, without the file suffix (a path that is
  not below `root`, such as an absolute one from a split file, gets its relative form with
  `..`; `outside_manual_dir` then refuses it)."""
  try:
    relative = path.relative_to(root)
  except ValueError:
    relative = pathlib.PurePosixPath(os.path.relpath(path, root))
  return (relative.with_suffix("") if relative.suffix else relative).as_posix()
