"""Robustness of a trained detector (BiG-Arts §5, Fig. 9, Table 8) and partial-face sets (Table 7).

    result = evaluate_robustness(config, "runs/t1")        # python -m fakenas_jax.robustness

The run is restored with `evaluator.restore_run` (the `best` checkpoint by default) and scored
with `inference.predict_split` on every test corpus (`NAME[/CONFIG][:SPLIT]`, default the
run's training corpus and `config.split`), first clean, then once per (transform, strength),
the transform applied to every test frame as it is read:

| transform | strength | what (`data.degradations`) |
|---|---|---|
| jpeg | quality 60–100 | OpenCV JPEG round trip |
| blur | σ in [0, 0.5] | 3×3 Gaussian kernel |
| noise | σ, grey levels | additive Gaussian noise (seeded per frame) |
| resize | scale in (0, 1] | down-scaling and back, bilinear |
| video | CRF 5–30 | each video's stored frames, in order, re-encoded as one H.264 clip |

The transform acts on the stored frame, before the pipeline resizes it to the network's input.
`video` needs the ffmpeg binary of the `imageio-ffmpeg` package; without it the transform is
skipped with its reason in the report. With `config.partial`, corpora whose fakes have aligned
real frames (`partial_faces`) are also scored on the partial-face sets, one AUC per region.

Written into `config.output_dir` (default `<workdir>/robustness`): `robustness.json` (every
AUC, frame- and video-level, with the frame counts), `robustness.md` (per transform a table of
frame AUC, corpora × strengths; the partial-face table), `robustness_<corpus>.png` (AUC against
strength, one panel per transform, the clean AUC dashed) and `partial_faces_<corpus>.png`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import pathlib
import re
import warnings
from collections.abc import Callable
from typing import Any

import cv2
import jax
import ml_collections
import numpy as np

from fakenas_jax import parallel
from fakenas_jax.data import corpus, degradations, preprocess
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.eval import evaluator, partial_faces, plots, report
from fakenas_jax.metrics import detection as metrics
from fakenas_jax.metrics import video_level
from fakenas_jax.training import inference, steps

TRANSFORMS = ("jpeg", "blur", "noise", "resize", "video")
STRENGTH_NAMES = {
  "jpeg": "JPEG quality",
  "blur": "blur σ (3×3 kernel)",
  "noise": "noise σ (grey levels)",
  "resize": "scale",
  "video": "H.264 CRF",
}
FrameTransform = Callable[[np.ndarray, float, int], np.ndarray]  # (image, strength, record)


def frame_transform(name: str, seed: int = 0) -> FrameTransform:
  """The per-frame transform `name` as f(image, strength, record) (video is per video)."""
  if name == "jpeg":
    return lambda image, strength, record: degradations.jpeg(image, int(strength))
  if name == "blur":
    return lambda image, strength, record: degradations.gaussian_blur(image, float(strength))
  if name == "noise":
    return lambda image, strength, record: degradations.gaussian_noise(
      image, float(strength), np.random.default_rng([seed, int(record)])
    )
  if name == "resize":
    return lambda image, strength, record: degradations.rescale(image, float(strength))
  raise ValueError(f"unknown frame transform {name!r}; use one of {TRANSFORMS[:-1]}")


class _LazyRecord(collections.abc.Mapping):
  """One record of a degraded split: metadata from the frame table, the image on demand."""

  def __init__(self, source: DegradedSource, index: int):
    self._source, self._index = source, index

  def __getitem__(self, name: str):
    table, index = self._source.table, self._index
    if name == "image":
      return self._source.image(index)
    if name == "label":
      return int(table.label[index])
    if name == "video_id":
      return table.video_ids[table.video[index]]
    if name == "frame_index":
      return int(table.frame_index[index])
    if name == "method":
      return table.method_names[table.method[index]]
    raise KeyError(name)

  def __iter__(self):
    return iter(("image", "label", "video_id", "frame_index", "method"))

  def __len__(self) -> int:
    return 5


class DegradedSource(collections.abc.Sequence):
  """A split whose images are degraded when read: a source for `data.pipeline.make_pipeline`.

  Either `transform(image, record) -> image` per frame, lazily, or `images` {record: encoded or
  uint8 image} precomputed (the video transform).
  """

  def __init__(
    self,
    source: Any,
    table: pipeline_lib.FrameTable,
    *,
    transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
    images: dict[int, Any] | None = None,
  ):
    if (transform is None) == (images is None):
      raise ValueError("give exactly one of transform and images")
    self.table = table
    self._reader = pipeline_lib.RecordReader(source)
    self._transform, self._images = transform, images

  def __len__(self) -> int:
    return len(self.table)

  def __getitem__(self, index):
    if isinstance(index, slice):
      raise TypeError("DegradedSource takes integer indices")
    return _LazyRecord(self, int(index))

  def image(self, index: int) -> np.ndarray | bytes:
    if self._images is not None:
      if index not in self._images:
        raise KeyError(f"record {index} was not re-encoded (not among the selected frames)")
      return self._images[index]
    encoded = self._reader.read(index, ("image",))["image"]
    return self._transform(preprocess.decode_image(encoded, channels=3), index)


def video_reencoded_images(
  source: Any,
  table: pipeline_lib.FrameTable,
  selected: np.ndarray,
  crf: int,
  *,
  preset: str = "medium",
) -> dict[int, bytes]:
  """{selected record: PNG bytes of it after H.264 at `crf`}: every video with a selected frame
  is encoded whole (all its stored frames, by frame index) and decoded back."""
  reader = pipeline_lib.RecordReader(source)
  wanted = set(int(r) for r in selected)
  videos = np.unique(table.video[np.asarray(selected, np.int64)])
  images: dict[int, bytes] = {}
  for video in videos:
    records = np.flatnonzero(table.video == video)
    records = records[np.argsort(table.frame_index[records], kind="stable")]
    frames = np.stack(
      [
        preprocess.decode_image(reader.read(int(r), ("image",))["image"], channels=3)
        for r in records
      ]
    )
    for record, frame in zip(records, degradations.h264(frames, crf, preset=preset)):
      if int(record) in wanted:
        ok, data = cv2.imencode(
          ".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1]
        )
        if not ok:
          raise RuntimeError("OpenCV could not encode a frame as PNG")
        images[int(record)] = data.tobytes()
  return images


def _score(predictions: inference.SplitPredictions) -> dict[str, Any]:
  """Frame and video AUC (NaN with one class) and the counts."""
  labels, scores = predictions.labels, predictions.p_fake
  result = {
    "frames": int(len(labels)),
    "fake_frames": int(labels.sum()),
    "auc": float("nan"),
    "video_auc": float("nan"),
  }
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    if 0 < labels.sum() < len(labels):
      result["auc"] = metrics.auc(labels, scores)
      videos = video_level.video_scores(predictions.frame_video_ids, labels, scores)
      if 0 < videos.labels.sum() < len(videos.labels):
        result["video_auc"] = metrics.auc(videos.labels, videos.scores)
  return result


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _strengths(config: ml_collections.ConfigDict, name: str) -> list[float]:
  values = config.strengths[name]
  if isinstance(values, str):
    values = [v for v in values.split(",") if v.strip()]
  return [float(v) for v in values]


def _names(value) -> list[str]:
  if isinstance(value, str):
    return [v.strip() for v in value.split(",") if v.strip()]
  return [str(v).strip() for v in value if str(v).strip()]


@dataclasses.dataclass
class _Scorer:
  """Predicts one source with the restored network; the frame table and selection are fixed."""

  predict: Callable
  variables: Any
  mesh: Any
  image_size: int
  batch_size: int
  data_threads: int
  progress: bool

  def __call__(self, source, table, frames_per_video, description: str) -> dict[str, Any]:
    pipe = pipeline_lib.make_pipeline(
      source=source,
      table=table,
      global_batch_size=self.batch_size,
      image_size=self.image_size,
      training=False,
      frames_per_video=frames_per_video,
      num_threads=self.data_threads,
    )
    return _score(
      inference.predict_split(
        self.predict,
        self.variables,
        pipe,
        self.mesh,
        progress=self.progress,
        description=description,
      )
    )


def evaluate_robustness(
  config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *, devices=None
) -> dict[str, Any]:
  """Clean, degraded and partial-face AUC of one training run (module docstring).

  Returns {'run': {...}, 'corpora': {corpus: {'clean': score, 'transforms': {name: [{'strength',
  'auc', 'video_auc', 'frames', 'fake_frames'}]}, 'skipped': {name: reason}, 'partial': {...}}},
  'paths': {...}}.
  """
  mesh = parallel.make_data_mesh(devices)
  if config.batch_size < 1 or config.batch_size % mesh.size:
    raise ValueError(
      f"batch_size ({config.batch_size}) must be a positive multiple of the "
      f"{mesh.size} devices of the data mesh"
    )
  transforms = _names(config.transforms)
  unknown = sorted(set(transforms) - set(TRANSFORMS))
  if unknown:
    raise ValueError(f"unknown transform(s) {unknown}; use some of {TRANSFORMS}")
  regions = _names(config.partial_regions)
  train_config, model, variables, meta = evaluator.restore_run(workdir, mesh, config.checkpoint)
  scorer = _Scorer(
    predict=jax.jit(steps.make_predict_step(model)),
    variables=variables,
    mesh=mesh,
    image_size=int(train_config.image_size),
    batch_size=int(config.batch_size),
    data_threads=int(config.data_threads),
    progress=bool(config.progress),
  )
  frames_per_video = int(config.frames_per_video) or None
  output_dir = pathlib.Path(config.output_dir or pathlib.Path(workdir) / "robustness")
  output_dir.mkdir(parents=True, exist_ok=True)
  entries = _names(config.corpora) or [train_config.dataset]
  results: dict[str, Any] = {}
  paths: dict[str, Any] = {"plots": [], "partial_plots": []}

  for entry in entries:
    spec, split = evaluator.parse_corpus(entry, config.split)
    overrides = dict(config.corpus_overrides.to_dict())
    if not overrides and spec == train_config.dataset:
      overrides = train_config.corpus_overrides.to_dict()
    builder = corpus.prepared_builder(
      spec, config.data_dir or train_config.data_dir, overrides, verbose=config.progress
    )
    source = corpus.split_source(builder, split)
    table = pipeline_lib.read_frame_table(source)
    selected = pipeline_lib.select_frames(table, frames_per_video)
    name = f"{spec}:{split}"
    result: dict[str, Any] = {
      "clean": scorer(source, table, frames_per_video, f"{name} clean"),
      "transforms": {},
      "skipped": {},
    }
    for transform in transforms:
      rows = []
      for strength in _strengths(config, transform):
        description = f"{name} {transform}={strength:g}"
        if transform == "video":
          try:
            images = video_reencoded_images(
              source, table, selected, int(strength), preset=config.video_preset
            )
          except degradations.VideoCodecUnavailable as error:
            result["skipped"]["video"] = str(error)
            print(f"robustness: skipping the video transform: {error}", flush=True)
            rows = []
            break
          degraded = DegradedSource(source, table, images=images)
        else:
          function = frame_transform(transform, int(config.seed))
          degraded = DegradedSource(
            source,
            table,
            transform=lambda image, record, f=function, s=strength: f(image, s, record),
          )
        rows.append(
          {"strength": strength, **scorer(degraded, table, frames_per_video, description)}
        )
      if rows:
        result["transforms"][transform] = rows
    if config.partial:
      result["partial"] = _partial(builder, split, source, table, selected, regions, scorer, name)
    results[name] = result
    if result["transforms"]:
      paths["plots"].append(
        save_robustness_plot(
          result,
          output_dir / f"robustness_{_slug(name)}.png",
          title=f"{train_config.model.name} trained on {train_config.dataset}, tested on {name}",
        )
      )
    if result.get("partial", {}).get("auc"):
      paths["partial_plots"].append(
        save_partial_plot(
          result["partial"],
          output_dir / f"partial_faces_{_slug(name)}.png",
          title=f"partial-face manipulations of {name}",
        )
      )

  summary = {
    "run": {
      "workdir": str(workdir),
      "training_corpus": train_config.dataset,
      "model": train_config.model.name,
      "checkpoint": str(config.checkpoint),
      "checkpoint_step": int(meta["step"]),
      "epoch": int(meta.get("epoch", 0)),
    },
    "split": config.split,
    "frames_per_video": frames_per_video,
    "corpora": results,
  }
  paths["json"] = report.write_json(summary, output_dir / "robustness.json")
  paths["markdown"] = output_dir / "robustness.md"
  paths["markdown"].write_text(robustness_markdown(summary))
  return {**summary, "paths": paths}


def _partial(builder, split, source, table, selected, regions, scorer, name) -> dict[str, Any]:
  try:
    sets = partial_faces.build_partial_sets(builder, split, source, selected, table, regions)
  except partial_faces.UnpairedCorpusError as error:
    return {"skipped": str(error)}
  scores = {}
  for region, records in sets.sources.items():
    if sets.fakes[region] == 0:
      continue
    region_table = pipeline_lib.read_frame_table(records)
    scores[region] = scorer(records, region_table, None, f"{name} partial {region}")
  return {
    "auc": {region: score["auc"] for region, score in scores.items()},
    "scores": scores,
    "reals": sets.reals,
    "fakes": sets.fakes,
    "skipped_fakes": sets.skipped,
  }


def robustness_markdown(summary: dict[str, Any]) -> str:
  """Per transform a table of frame AUC (corpora × strengths, the clean AUC first); the
  partial-face AUC per region."""
  corpora = summary["corpora"]
  run = summary["run"]
  lines = [
    f"# Robustness of {run['model']} trained on {run['training_corpus']} "
    f"(step {run['checkpoint_step']})\n\n"
  ]
  for transform in TRANSFORMS:
    rows = {}
    for name, result in corpora.items():
      if transform in result["transforms"]:
        row = {"clean": result["clean"]["auc"]}
        row.update({f"{r['strength']:g}": r["auc"] for r in result["transforms"][transform]})
        rows[name] = row
    if rows:
      lines += [
        f"## {transform}: frame AUC against {STRENGTH_NAMES[transform]}\n\n",
        plots.markdown_table(rows, row_header="corpus"),
        "\n",
      ]
  for name, result in corpora.items():
    if "video" in result["skipped"]:
      lines.append(f"video transform skipped for {name}: {result['skipped']['video']}\n\n")
  partial_rows = {
    name: result["partial"]["auc"]
    for name, result in corpora.items()
    if result.get("partial", {}).get("auc")
  }
  if partial_rows:
    lines += [
      "## Partial-face manipulations: frame AUC per region (`full`: the whole fakes)\n\n",
      plots.markdown_table(partial_rows, row_header="corpus"),
      "\n",
    ]
  for name, result in corpora.items():
    if "skipped" in result.get("partial", {}):
      lines.append(f"partial-face sets skipped for {name}: {result['partial']['skipped']}\n\n")
  return "".join(lines)


def save_robustness_plot(
  result: dict[str, Any], path: str | pathlib.Path, title: str = ""
) -> pathlib.Path:
  """AUC against strength, one panel per transform; the clean AUC as a dashed line."""
  names = list(result["transforms"])
  figure, axes = plots.plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
  clean = result["clean"]["auc"]
  for axis, name in zip(axes[0], names):
    rows = result["transforms"][name]
    strengths = [row["strength"] for row in rows]
    axis.plot(strengths, [row["auc"] for row in rows], marker="o", lw=1.8, label="frame AUC")
    video = [row["video_auc"] for row in rows]
    if not all(np.isnan(v) for v in video):
      axis.plot(strengths, video, marker="s", lw=1.2, alpha=0.7, label="video AUC")
    if not np.isnan(clean):
      axis.axhline(clean, linestyle="--", color="0.5", lw=1, label="clean")
    if name == "jpeg":
      axis.invert_xaxis()  # stronger to the right
    axis.set_xlabel(STRENGTH_NAMES[name])
    axis.set_ylabel("AUC")
    axis.set_ylim(0, 1.02)
    axis.set_title(name)
    axis.grid(alpha=0.3)
  axes[0][0].legend(loc="lower left", fontsize=7)
  if title:
    figure.suptitle(title, fontsize=9)
  return plots.save_figure(figure, path)


def save_partial_plot(
  partial: dict[str, Any], path: str | pathlib.Path, title: str = ""
) -> pathlib.Path:
  """A bar per region: the frame AUC of its partial fakes against the real frames."""
  regions = list(partial["auc"])
  values = [partial["auc"][region] for region in regions]
  figure, axis = plots.plt.subplots(figsize=(1.0 + 0.8 * len(regions), 3.2))
  bars = axis.bar(regions, np.nan_to_num(values), color="tab:blue")
  for bar, value in zip(bars, values):
    axis.annotate(
      "n/a" if np.isnan(value) else f"{value:.3f}",
      (bar.get_x() + bar.get_width() / 2, bar.get_height()),
      ha="center",
      va="bottom",
      fontsize=7,
    )
  axis.set_ylim(0, 1.08)
  axis.set_ylabel("frame AUC")
  if title:
    axis.set_title(title, fontsize=9)
  axis.grid(alpha=0.3, axis="y")
  return plots.save_figure(figure, path)
