"""The faceforensics builder, built for real from the dummy corpus (real face videos)."""

import itertools
import json

import cv2
import numpy as np
import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.faceforensics import dummy_data
from tfds_builders.faceforensics import faceforensics_dataset_builder as ffb

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("ffpp"))
  data_dir = tmp_path_factory.mktemp("tfds")
  builds = {}

  def build(config):
    if config not in builds:
      builds[config] = t.build(
        f"faceforensics/{config}", manual_dir, data_dir, frames_per_video=FRAMES
      )
    return builds[config]

  return build


def _expected(methods, compression):
  """split -> {video_id: (label, method, identity, source_identity)}, from the split files."""
  expected = {}
  for split, pairs in dummy_data.SPLIT_PAIRS.items():
    videos = {}
    for video in sorted(set(itertools.chain.from_iterable(pairs))):
      if video not in dummy_data.MISSING and video != dummy_data.CORRUPT:
        videos[f"original_sequences/youtube/{compression}/videos/{video}"] = (0, "real", video, "")
    for method in methods:
      for a, b in pairs:
        for target, source in ((a, b), (b, a)):
          if {target, source} & set(dummy_data.MISSING) or (
            (method, f"{target}_{source}") == dummy_data.FACELESS
          ):
            continue
          video_id = (
            f"manipulated_sequences/{ffb.METHOD_FOLDERS[method]}/{compression}/videos/"
            f"{target}_{source}"
          )
          videos[video_id] = (1, method, target, source)
    expected[split] = videos
  return expected


def test_configs_are_every_method_times_every_compression():
  names = [config.name for config in ffb.Builder.BUILDER_CONFIGS]
  assert sorted(names) == sorted(
    f"{m}_{c}" for m in (*ffb.METHOD_FOLDERS, "all") for c in ("raw", "c23", "c40")
  )
  configs = {config.name: config for config in ffb.Builder.BUILDER_CONFIGS}
  assert configs["all_c40"].methods == ("deepfakes", "face2face", "faceswap", "neuraltextures")
  assert configs["faceshifter_raw"].methods == ("faceshifter",)


@pytest.mark.parametrize("method", [*ffb.METHOD_FOLDERS, "all"])
def test_every_method_at_c23(corpus, method):
  builder = corpus(f"{method}_c23")
  methods = ffb.PAPER_METHODS if method == "all" else (method,)
  expected = _expected(methods, "c23")
  table = t.videos(builder)
  for split, split_index in zip(face_corpus.SPLITS, range(3)):
    got = {
      video_id: (v["label"], v["method"], v["identity"], v["source_identity"])
      for video_id, v in table[split].items()
    }
    assert got == expected[split], split
    wanted_frames = faces.sample_frame_indices(t.FRAMES, FRAMES[split_index]).tolist()
    assert all(v["frames"] == wanted_frames for v in table[split].values())
  # What was skipped, and why.
  skipped = t.skipped_by_item(builder)
  missing = {
    f"original_sequences/youtube/c23/videos/{v}": "file not found" for v in dummy_data.MISSING
  }
  missing |= {
    f"manipulated_sequences/{ffb.METHOD_FOLDERS[m]}/c23/videos/{a}_{b}": "file not found"
    for m in methods
    for a, b in (("008", "009"), ("009", "008"))
  }
  missing[f"original_sequences/youtube/c23/videos/{dummy_data.CORRUPT}"] = "cannot open"
  if dummy_data.FACELESS[0] in methods:
    missing[f"manipulated_sequences/Deepfakes/c23/videos/{dummy_data.FACELESS[1]}"] = (
      "no face in any frame"
    )
  assert skipped == missing
  assert t.report(builder)["splits"]["train"]["videos"] == len(expected["train"])


@pytest.mark.parametrize("method", ["deepfakes", "face2face"])
def test_artifact_masks(corpus, method):
  """Real frames: empty masks, flagged exact. Fakes: M_in inside the face, M_ex its boundary
  band; from the mask video (deepfakes) or the aligned real video (face2face); a fake whose
  real video is corrupt and that has no mask video gets none, flagged."""
  builder = corpus(f"{method}_c23")
  size = builder.builder_config.crop_size
  for split, videos in t.videos(builder).items():
    for video_id, video in videos.items():
      no_source = video_id.endswith(f"/{dummy_data.CORRUPT}_002")
      flagged = not (no_source and method not in dummy_data.MASKED_METHODS)
      assert video["masked"] == {flagged}, video_id
      for record in video["records"]:
        hull, intrinsic, extrinsic = (
          t.decode_mask(record[m]) for m in ("face_hull", "intrinsic", "extrinsic")
        )
        assert hull.shape == intrinsic.shape == extrinsic.shape == (size, size)
        assert set(np.unique(hull)) <= {0, 255} and hull.mean() > 20
        points = np.clip(np.round(record["landmarks"]).astype(int), 0, size - 1)
        assert (cv2.dilate(hull, np.ones((3, 3), np.uint8))[points[:, 1], points[:, 0]]).all()
        if video["label"] == 0 or not flagged:
          assert not intrinsic.any() and not extrinsic.any()
          continue
        assert intrinsic.any() and extrinsic.any()
        # M_in lies on the face: mostly inside the face hull, its centre inside it.
        assert ((intrinsic > 0) & (hull > 0)).sum() > 0.5 * (intrinsic > 0).sum(), video_id
        ys, xs = np.nonzero(intrinsic)
        assert cv2.dilate(hull, np.ones((7, 7), np.uint8))[int(ys.mean()), int(xs.mean())]
        wide = np.ones((size // 4 + 1,) * 2, np.uint8)
        assert not (extrinsic & ~cv2.dilate(intrinsic, wide)).any()
        assert not (extrinsic & cv2.erode(intrinsic, wide, borderType=cv2.BORDER_REPLICATE)).any()


@pytest.mark.parametrize("compression", ["raw", "c40"])
def test_other_compressions_of_one_method(corpus, compression):
  builder = corpus(f"deepfakes_{compression}")
  expected = _expected(("deepfakes",), compression)
  table = t.videos(builder)
  assert {split: set(videos) for split, videos in table.items()} == {
    split: set(videos) for split, videos in expected.items()
  }


def test_a_missing_compression_names_the_expected_folders(tmp_path):
  for name in ffb.SPLIT_FILES.values():
    (tmp_path / name).write_text("[]")
  with pytest.raises(face_corpus.ManualDirError) as error:
    t.build("faceforensics/all_c40", tmp_path, tmp_path / "tfds")
  message = str(error.value)
  assert str(tmp_path / "original_sequences/youtube/c40/videos") in message
  for folder in ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures"):
    assert str(tmp_path / f"manipulated_sequences/{folder}/c40/videos") in message
  assert "FaceShifter/c40" not in message and "train.json" not in message.split("Expected")[0]


def test_an_id_in_two_split_files_is_refused(tmp_path):
  (tmp_path / "original_sequences/youtube/c23/videos").mkdir(parents=True)
  (tmp_path / "manipulated_sequences/Deepfakes/c23/videos").mkdir(parents=True)
  (tmp_path / "train.json").write_text(json.dumps([["000", "001"]]))
  (tmp_path / "val.json").write_text(json.dumps([["001", "002"]]))
  (tmp_path / "test.json").write_text(json.dumps([["003", "004"]]))
  with pytest.raises(face_corpus.ManualDirError, match="001 is in both"):
    t.build("faceforensics/deepfakes_c23", tmp_path, tmp_path / "tfds")
  (tmp_path / "val.json").write_text(json.dumps({"001": "002"}))
  with pytest.raises(face_corpus.ManualDirError, match=r"list of \[id, id\] pairs"):
    t.build("faceforensics/deepfakes_c23", tmp_path, tmp_path / "tfds")


@pytest.mark.parametrize(
  "bad",
  [
    dict(methods=("deepfakes", "nope")),
    dict(compression="c30"),
    dict(protocol="ratio"),
    dict(frames_per_video=(20, 0, 10)),
    dict(crop_size=8),
  ],
)
def test_bad_configs_are_refused(bad):
  with pytest.raises(ValueError):
    ffb.FaceForensicsConfig(name="bad", **bad)
