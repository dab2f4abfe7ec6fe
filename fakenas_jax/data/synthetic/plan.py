"""The plan of a synthetic split: which videos, of which identities, made how (WORKSPACE.md,
The synthetic corpus).

Identities are contiguous per split (identity-disjoint splits); every identity has real videos
and is the target of fakes whose source is another identity of the same split; methods go
round-robin; every video's seed is (corpus seed, split, identity, video).
"""

from __future__ import annotations

import dataclasses

from fakenas_jax.data.synthetic import recipes

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class VideoSpec:
  """Everything that determines one video of a split."""

  split: str
  video_id: str
  target_identity: int
  source_identity: int  # -1 for real videos
  method: str  # 'real' or a forgery method
  seed: tuple[int, ...]


def video_specs(config, split: str) -> list[VideoSpec]:
  """The videos of one split of a `SyntheticFacesConfig`, in a fixed order (module docstring)."""
  recipe = recipes.RECIPES[config.recipe]
  split_index = SPLITS.index(split)
  first = sum(config.identities[:split_index])
  identities = list(range(first, first + config.identities[split_index]))
  specs = []
  fake_count = 0
  for position, identity in enumerate(identities):
    for v in range(config.real_videos_per_identity):
      specs.append(
        VideoSpec(
          split,
          f"{split}/real_{identity:05d}_{v}",
          identity,
          -1,
          "real",
          (config.seed, split_index, identity, v),
        )
      )
    for v in range(config.fake_videos_per_identity):
      # The source is another identity of the same split, a different one for each video.
      source = identities[(position + 1 + v % (len(identities) - 1)) % len(identities)]
      method = recipe.methods[fake_count % len(recipe.methods)]
      fake_count += 1
      specs.append(
        VideoSpec(
          split,
          f"{split}/{method}_{identity:05d}_{source:05d}_{v}",
          identity,
          source,
          method,
          (config.seed, split_index, identity, config.real_videos_per_identity + v),
        )
      )
  return specs
