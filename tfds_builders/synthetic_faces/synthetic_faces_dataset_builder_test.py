"""The synthetic_faces builder, built for real at a tiny size and read back."""

import collections

import cv2
import numpy as np
import pytest

from fakenas_jax.data import corpora, preparation
from tfds_builders.synthetic_faces import synthetic_faces_dataset_builder as sfb


def _raw_records(builder, split):
  source = corpora.raw_source(builder, split)
  return [source[i] for i in range(len(source))]


def _png(data):
  return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_counts_match_the_video_plan(tiny_builder):
  config = tiny_builder.builder_config
  for split in sfb.SPLITS:
    specs = sfb.video_specs(config, split)
    records = _raw_records(tiny_builder, split)
    assert len(records) == len(specs) * config.frames_per_video
    per_video = collections.Counter(r["video_id"] for r in records)
    assert sorted(v.decode() for v in per_video) == sorted(s.video_id for s in specs)
    assert set(per_video.values()) == {config.frames_per_video}
    frames = collections.defaultdict(set)
    for r in records:
      frames[r["video_id"]].add(int(r["frame_index"]))
    assert all(f == set(range(config.frames_per_video)) for f in frames.values())


def test_every_method_in_every_split(tiny_builder):
  methods = set(sfb.synthetic.RECIPES[tiny_builder.builder_config.recipe].methods)
  for split in sfb.SPLITS:
    specs = sfb.video_specs(tiny_builder.builder_config, split)
    assert {s.method for s in specs} - {"real"} <= methods
  all_specs = [
    s for split in sfb.SPLITS for s in sfb.video_specs(tiny_builder.builder_config, split)
  ]
  assert {s.method for s in all_specs} - {"real"} == methods


def test_labels_and_masks_are_consistent(tiny_builder):
  size = tiny_builder.builder_config.resolution
  kernel = np.ones((3, 3), np.uint8)
  for record in _raw_records(tiny_builder, "train"):
    method = record["method"].decode()
    assert int(record["label"]) == (method != "real")
    hull, intrinsic, extrinsic = (_png(record[m]) for m in ("face_hull", "intrinsic", "extrinsic"))
    assert hull.shape == intrinsic.shape == extrinsic.shape == (size, size)
    assert set(np.unique(hull)) <= {0, 255}
    # The hull covers every landmark (allowing the rasterised boundary one pixel of slack).
    points = np.clip(np.round(record["landmarks"]).astype(int), 0, size - 1)
    grown = cv2.dilate(hull, kernel)
    assert (grown[points[:, 1], points[:, 0]] == 255).all()
    if method == "real":
      assert not intrinsic.any() and not extrinsic.any()
      assert int(record["source_identity"]) == -1
    else:
      assert intrinsic.any()
      if method == "synthetic_face":  # A whole generated frame: no blending boundary.
        assert intrinsic.all() and not extrinsic.any()
        continue
      # The band surrounds the intrinsic region: it holds the region's boundary (away from the
      # image border), and lies within a few pixels of it, never deep inside or far outside.
      cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
      boundary = intrinsic & ~cv2.erode(intrinsic, cross, borderType=cv2.BORDER_REPLICATE)
      boundary[[0, -1], :] = 0
      boundary[:, [0, -1]] = 0
      assert not (boundary & ~extrinsic).any()
      wide = np.ones((size // 4 + 1, size // 4 + 1), np.uint8)
      assert not (extrinsic & ~cv2.dilate(intrinsic, wide)).any()
      assert not (extrinsic & cv2.erode(intrinsic, wide, borderType=cv2.BORDER_REPLICATE)).any()


def test_splits_are_identity_disjoint(tiny_builder):
  identities = {}
  for split in sfb.SPLITS:
    records = _raw_records(tiny_builder, split)
    identities[split] = {int(r["identity"]) for r in records} | {
      int(r["source_identity"]) for r in records if int(r["source_identity"]) >= 0
    }
  assert not identities["train"] & identities["validation"]
  assert not identities["train"] & identities["test"]
  assert not identities["validation"] & identities["test"]


def test_images_decode_to_the_configured_size(tiny_builder):
  source = tiny_builder.as_data_source(split="test")
  example = source[0]
  size = tiny_builder.builder_config.resolution
  assert example["image"].shape == (size, size, 3) and example["image"].dtype == np.uint8
  assert example["landmarks"].shape == (68, 2)


def _all_bytes(builder):
  return {
    split: sorted(
      (r["video_id"], int(r["frame_index"]), r["image"], r["intrinsic"])
      for r in _raw_records(builder, split)
    )
    for split in sfb.SPLITS
  }


def test_same_seed_gives_identical_bytes_whatever_the_workers(tiny_builder, tmp_path):
  overrides = {
    field: getattr(tiny_builder.builder_config, field)
    for field in (
      "identities",
      "real_videos_per_identity",
      "fake_videos_per_identity",
      "frames_per_video",
      "resolution",
    )
  }
  preparation.prepare(
    "synthetic_faces/studio", tmp_path, overrides=overrides, builder_kwargs={"num_workers": 2}
  )
  again = corpora.load_builder("synthetic_faces/studio", str(tmp_path), **overrides)
  assert _all_bytes(again) == _all_bytes(tiny_builder)


def test_another_seed_gives_other_frames(tiny_builder):
  config = tiny_builder.builder_config
  spec = sfb.video_specs(config, "train")[0]
  a = sfb.render_examples(spec, config.recipe, 2, 32)
  b = sfb.render_examples(
    sfb.VideoSpec(**{**spec.__dict__, "seed": (1,) + spec.seed[1:]}), config.recipe, 2, 32
  )
  assert a[0][1]["image"] != b[0][1]["image"]


def test_configs_are_distinct_corpora():
  names = [config.name for config in sfb.Builder.BUILDER_CONFIGS]
  assert len(names) >= 4 and len(set(names)) == len(names)
  recipes = {sfb.synthetic.RECIPES[config.recipe] for config in sfb.Builder.BUILDER_CONFIGS}
  assert len(recipes) == len(names)


@pytest.mark.parametrize(
  "bad", [dict(recipe="nope"), dict(resolution=8), dict(identities=(1, 1, 1))]
)
def test_bad_configs_are_refused(bad):
  with pytest.raises(ValueError):
    sfb.SyntheticFacesConfig(name="bad", **bad)
