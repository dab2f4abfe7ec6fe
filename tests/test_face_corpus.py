"""The base of the video face corpus builders: splits, frame folders, configs, errors, workers."""

import collections
import dataclasses
import hashlib
import json
import pathlib
import random
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fakenas_jax.data import corpora, face_corpus, overrides
from tfds_builders import face_corpus_testing as t

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 9, 10, 59, 1000])
@pytest.mark.parametrize("ratios", [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1), (1, 1, 1), (0.8, 0.2)])
def test_split_sizes_follow_the_ratios(count, ratios):
  sizes = face_corpus.split_sizes(count, ratios)
  assert sum(sizes) == count and min(sizes) >= 0
  shares = np.asarray(ratios) / sum(ratios) * count
  if count >= len(ratios):
    assert min(sizes) >= 1
  if count >= 10 * len(ratios):  # no minimum moved anything: largest remainder is within 1
    assert np.abs(np.asarray(sizes) - shares).max() < 1
  assert face_corpus.split_sizes(10, (0.8, 0.1, 0.1)) == [8, 1, 1]
  assert face_corpus.split_sizes(5, (0.8, 0.1, 0.1)) == [3, 1, 1]


def test_group_assignment_depends_only_on_the_ids():
  groups = [f"id{i}" for i in range(59)]
  first = face_corpus.assign_groups(groups, (0.8, 0.1, 0.1), salt="celeb_df")
  shuffled = groups[::-1] + groups[:5]  # another order, with repeats
  random.Random(0).shuffle(shuffled)
  assert face_corpus.assign_groups(shuffled, (0.8, 0.1, 0.1), salt="celeb_df") == first
  counts = collections.Counter(first.values())
  assert [counts[s] for s in face_corpus.SPLITS] == face_corpus.split_sizes(59, (0.8, 0.1, 0.1))
  # The ranking is SHA-256 of 'salt:group': recompute it independently.
  ranked = sorted(groups, key=lambda g: hashlib.sha256(f"celeb_df:{g}".encode()).hexdigest())
  assert [first[g] for g in ranked] == ["train"] * 47 + ["validation"] * 6 + ["test"] * 6
  other = face_corpus.assign_groups(groups, (0.8, 0.1, 0.1), salt="dfd")
  assert other != first


def _item(video_id, identity, split="train", label=0, path="/nonexistent"):
  return face_corpus.VideoItem(
    path=path,
    label=label,
    video_id=video_id,
    method="fake_method" if label else "real",
    split=split,
    identity=identity,
  )


def test_ratio_and_validation_splits_keep_groups_together(tmp_path):
  config = face_corpus.FaceCorpusConfig(name="x", protocol="ratio")
  path = tmp_path / "v.mp4"
  path.write_bytes(b"")
  items = [
    _item(f"v{i}_{j}", f"p{i}", label=j % 2, path=str(path)) for i in range(20) for j in range(3)
  ]
  items.append(_item("gone", "p_missing"))  # no file: takes no part in the split
  split = face_corpus.ratio_splits(items, config, salt="s")
  per_identity = collections.defaultdict(set)
  for item in split:
    per_identity[item.identity].add(item.split)
  assert all(len(splits) == 1 for splits in per_identity.values())
  assert collections.Counter(
    next(iter(s)) for i, s in per_identity.items() if i != "p_missing"
  ) == {"train": 16, "validation": 2, "test": 2}
  official = [
    dataclasses.replace(item, split="test" if item.identity in ("p0", "p1") else "train")
    for item in items
  ]
  held = face_corpus.hold_out_validation(official, config, salt="s")
  assert {i.identity for i in held if i.split == "test"} == {"p0", "p1"}
  validation = {i.identity for i in held if i.split == "validation"}
  assert len(validation) == 4 and not validation & {i.identity for i in held if i.split == "train"}


def test_video_items_refuse_inconsistent_fields():
  with pytest.raises(ValueError, match="label"):
    face_corpus.VideoItem(path="a", label=2, video_id="a", method="real", split="train")
  with pytest.raises(ValueError, match="split"):
    face_corpus.VideoItem(path="a", label=0, video_id="a", method="real", split="val")
  with pytest.raises(ValueError, match="method"):
    face_corpus.VideoItem(path="a", label=1, video_id="a", method="real", split="test")


@pytest.mark.parametrize(
  "bad",
  [
    dict(protocol="random"),
    dict(split_ratios=(0.9, 0.1, 0.0)),
    dict(validation_fraction=0.0),
    dict(frames_per_video=(20, 10)),
    dict(crop_size=8),
    dict(margin=-0.1),
  ],
)
def test_bad_configs_are_refused(bad):
  with pytest.raises(ValueError):
    face_corpus.FaceCorpusConfig(name="bad", **bad)


def test_config_fields_are_overridable_from_the_command_line():
  config = corpora.resolve_config("celeb_df/ratio_811")
  values = overrides.parse(
    ["crop_size=128", "frames_per_video=8,4,4", "split_ratios=0.7,0.2,0.1", "margin=0.5"], config
  )
  assert values == dict(
    crop_size=128, frames_per_video=(8, 4, 4), split_ratios=(0.7, 0.2, 0.1), margin=0.5
  )
  overridden = corpora.resolve_config("celeb_df/ratio_811", **values)
  assert overridden.name.startswith("ratio_811_") and overridden.crop_size == 128
  with pytest.raises(ValueError):
    corpora.resolve_config("celeb_df/ratio_811", frames_per_video=(8, 0, 4))


def test_frame_files_are_in_numeric_order(tmp_path):
  for name in ("10.png", "2.png", "1.png", "b.jpg", "a.jpg", "notes.txt", "003", "011"):
    (tmp_path / name).write_bytes(b"x")
  (tmp_path / "sub").mkdir()
  assert [p.name for p in face_corpus.frame_files(tmp_path)] == [
    "1.png",
    "2.png",
    "003",
    "10.png",
    "011",
    "a.jpg",
    "b.jpg",
  ]


def test_a_frame_folder_becomes_a_lossless_video_of_the_sampled_frames(tmp_path):
  rng = np.random.default_rng(0)
  frames = [rng.integers(0, 256, (48, 64, 3), np.uint8) for _ in range(12)]
  t.write_frames(tmp_path / "seq", frames)  # 1.png ... 12.png: folder frames 0-11
  (tmp_path / "seq" / "13.png").write_bytes(b"not an image")  # frame 12
  small = rng.integers(0, 256, (24, 32, 3), np.uint8)
  cv2.imwrite(str(tmp_path / "seq" / "14.png"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
  indices, failures = face_corpus.folder_as_video(tmp_path / "seq", 5, tmp_path / "five.avi")
  # Sampled as a 14-frame video is: floor((2i + 1) * 14 / 10) = 1, 4, 7, 9, 12.
  assert indices.tolist() == [1, 4, 7, 9] and failures == [(12, "cannot decode frame")]
  for index, frame in zip(indices, t.read_all_frames(tmp_path / "five.avi"), strict=True):
    assert np.array_equal(frame, frames[index])  # RGB in, RGB out, bit-exact
  indices, failures = face_corpus.folder_as_video(tmp_path / "seq", 20, tmp_path / "all.avi")
  assert indices.tolist() == [*range(12), 13] and failures == [(12, "cannot decode frame")]
  last = t.read_all_frames(tmp_path / "all.avi")[-1]
  assert last.shape == (48, 64, 3)  # a frame of another size is brought to the first one's
  assert np.array_equal(last, cv2.resize(small, (64, 48), interpolation=cv2.INTER_AREA))


def test_manual_dir_errors_are_one_line_cli_errors(tmp_path):
  result = subprocess.run(
    [
      sys.executable,
      "-m",
      "fakenas_jax.prepare",
      "--dataset=uadfv",
      f"--manual_dir={tmp_path / 'nothing_here'}",
      f"--data_dir={tmp_path / 'tfds'}",
    ],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert result.returncode == 2
  assert "error: uadfv/ratio_811: Manual directory" in result.stderr
  assert "Traceback" not in result.stderr and "real/0000.mp4" in result.stderr


@pytest.fixture(scope="module")
def uadfv_dummy(tmp_path_factory):
  from tfds_builders.uadfv import dummy_data

  return dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("uadfv"))


def test_workers_give_the_same_examples_as_one_process(uadfv_dummy, tmp_path):
  from fakenas_jax.data import preparation

  frames = dict(frames_per_video=(2, 1, 1))
  preparation.prepare(
    "uadfv",
    tmp_path / "one",
    manual_dir=str(uadfv_dummy),
    overrides=frames,
    builder_kwargs={"num_workers": 1, "progress": False},
  )
  summary = preparation.prepare(
    "uadfv",
    tmp_path / "two",
    manual_dir=str(uadfv_dummy),
    overrides=frames,
    builder_kwargs={"num_workers": 2, "progress": False},
  )
  one = corpora.load_builder("uadfv", str(tmp_path / "one"), **frames)
  two = corpora.load_builder("uadfv", str(tmp_path / "two"), **frames)
  for split in face_corpus.SPLITS:
    key = lambda r: (r["video_id"], int(r["frame_index"]))
    a = sorted(t.records(one, split), key=key)
    b = sorted(t.records(two, split), key=key)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
      assert x.keys() == y.keys()
      for name in x:
        assert np.array_equal(np.asarray(x[name]), np.asarray(y[name])), name
  assert len(summary.skipped) == 2
  report = json.loads((pathlib.Path(two.data_dir) / "prepare_report.json").read_text())
  assert {entry["reason"] for entry in report["skipped"]} == {"cannot open", "no face in any frame"}


def test_a_split_left_without_examples_is_a_clear_error(tmp_path):
  (tmp_path / "real").mkdir()
  (tmp_path / "fake").mkdir()
  for number in range(3):
    t.write_corrupt(tmp_path / "real" / f"000{number}.mp4")
  with pytest.raises(face_corpus.EmptySplitError, match="no usable video in the train split"):
    t.build("uadfv", tmp_path, tmp_path / "tfds")
