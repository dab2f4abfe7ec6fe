"""synthetic_faces: procedurally rendered face videos and their forgeries, generated offline.

One example per frame, in the data model of the face corpora (WORKSPACE.md, Data model): the encoded `image`,
`label` (0 real / 1 fake), `video_id`, `frame_index`, `method`, 68 `landmarks` (dlib layout) and
three exact masks — `face_hull` (ADD), `intrinsic` and `extrinsic` (BiG-Arts). Each config is a
corpus recipe of `fakenas_jax.data.synthetic` (renderer style, forgery methods, blending,
compression); different configs act as different corpora for cross-dataset experiments.

Splits are identity-disjoint: identities [0, n_train) are training identities, the next
n_validation validation ones, then n_test test ones. Every identity of a split appears in
`real_videos_per_identity` real videos and is the target of `fake_videos_per_identity` fakes
whose source identity is another identity of the same split; fake methods go round-robin over
the recipe's methods, so every method is represented in every split. Every video is drawn from
`np.random.default_rng((seed, split, identity, video))`, so a build is byte-identical for a seed
whatever the order or the number of worker processes.

    python -m fakenas_jax.prepare --dataset=synthetic_faces/studio --data_dir=~/tensorflow_datasets
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterator

import numpy as np
import tensorflow_datasets as tfds

from fakenas_jax.data import synthetic, workers
from fakenas_jax.data.synthetic.plan import SPLITS, VideoSpec, video_specs  # noqa: F401


@dataclasses.dataclass(kw_only=True)
class SyntheticFacesConfig(tfds.core.BuilderConfig):
  """One synthetic corpus: a recipe and the size of each split."""

  recipe: str = "studio"
  resolution: int = 64
  # Detectors generalise across identities only when they have seen many (Meso-4's in-corpus
  # AUC on studio: 0.88 with 40 training identities, 0.997 with 160; WORKSPACE.md, "Calibration").
  frames_per_video: int = 10
  identities: tuple[int, int, int] = (160, 16, 16)  # train, validation, test
  real_videos_per_identity: int = 2
  fake_videos_per_identity: int = 2
  seed: int = 0

  def __post_init__(self):
    if self.recipe not in synthetic.RECIPES:
      raise ValueError(
        f"Unknown recipe {self.recipe!r}; known: {', '.join(sorted(synthetic.RECIPES))}"
      )
    if self.resolution < 32:
      raise ValueError(f"resolution must be >= 32, got {self.resolution}")
    if min(self.identities) < 2 and self.fake_videos_per_identity > 0:
      raise ValueError(
        f"every split needs >= 2 identities to make fakes, got identities={self.identities}"
      )
    if self.frames_per_video < 1:
      raise ValueError(f"frames_per_video must be >= 1, got {self.frames_per_video}")


def _default_config(recipe: str) -> SyntheticFacesConfig:
  return SyntheticFacesConfig(
    name=recipe, recipe=recipe, description=synthetic.RECIPES[recipe].description
  )


def render_examples(
  spec: VideoSpec, recipe_name: str, num_frames: int, resolution: int
) -> list[tuple[str, dict]]:
  """Renders one video and returns its (key, example) pairs, frames already encoded."""
  recipe = synthetic.RECIPES[recipe_name]
  video = synthetic.generate_video(
    recipe,
    seed=spec.seed,
    target_identity=spec.target_identity,
    source_identity=None if spec.source_identity < 0 else spec.source_identity,
    method=spec.method,
    num_frames=num_frames,
    resolution=resolution,
  )
  examples = []
  for index, frame in enumerate(video.frames):
    examples.append(
      (
        f"{spec.video_id}/{index:04d}",
        {
          "image": synthetic.encode_frame(frame.image, video.quality),
          "face_hull": synthetic.encode_frame(frame.face_hull[..., None], 0),
          "intrinsic": synthetic.encode_frame(frame.intrinsic[..., None], 0),
          "extrinsic": synthetic.encode_frame(frame.extrinsic[..., None], 0),
          "label": 0 if spec.method == "real" else 1,
          "video_id": spec.video_id,
          "frame_index": index,
          "method": spec.method,
          "blending": video.blending,
          "quality": video.quality,
          "landmarks": frame.landmarks.astype(np.float32),
          "identity": spec.target_identity,
          "source_identity": spec.source_identity,
        },
      )
    )
  return examples


class Builder(tfds.core.GeneratorBasedBuilder):
  """The built-in synthetic deepfake corpus; nothing to download."""

  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {
    "1.0.0": "First release.",
    "1.1.0": "Calibrated: 160/16/16 identities x 10 frames by default; celeb swaps "
    "synthesised at 1/1.5 resolution; wild holds face swaps only, at JPEG 75/65 "
    "with a milder camera; graphics swaps texture at 1/2 resolution.",
  }
  BUILDER_CONFIGS = [_default_config(name) for name in ("studio", "celeb", "wild", "graphics")]
  DEFAULT_CONFIG_NAME = "studio"

  def __init__(self, *, num_workers: int | None = None, **kwargs):
    self._num_workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.resolution
    mask = lambda: tfds.features.Image(shape=(size, size, 1), encoding_format="png")
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=(size, size, 3)),
          "face_hull": mask(),
          "intrinsic": mask(),
          "extrinsic": mask(),
          "label": tfds.features.ClassLabel(names=["real", "fake"]),
          "video_id": tfds.features.Text(),
          "frame_index": np.int32,
          "method": tfds.features.Text(),
          "blending": tfds.features.Text(),
          "quality": np.int32,
          "landmarks": tfds.features.Tensor(shape=(68, 2), dtype=np.float32),
          "identity": np.int32,
          "source_identity": np.int32,
        }
      ),
      supervised_keys=("image", "label"),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Generated, not downloaded.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    jobs = [
      (spec, config.recipe, config.frames_per_video, config.resolution)
      for spec in video_specs(config, split)
    ]
    for examples in workers.map_in_workers(
      render_examples,
      jobs,
      num_workers=self._num_workers,
      label="synthetic_faces",
      chunksize=4,
      unit="video",
    ):
      yield from examples
