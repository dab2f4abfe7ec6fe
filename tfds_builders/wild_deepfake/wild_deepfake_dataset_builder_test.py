"""The wild_deepfake builder, built for real from the dummy corpus (PNG face sequences)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.wild_deepfake import dummy_data
from tfds_builders.wild_deepfake import wild_deepfake_dataset_builder as wdb

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("wild"))
  data_dir = tmp_path_factory.mktemp("tfds")
  return {
    name: t.build(f"wild_deepfake/{name}", manual_dir, data_dir, frames_per_video=FRAMES)
    for name in ("official", "ratio_811")
  }


def _archive(video_id):
  return "/".join(video_id.split("/")[:2])


def test_official_splits_follow_the_folders(corpus):
  builder = corpus["official"]
  table = t.videos(builder)
  assert set(table["test"]) == {f for f in dummy_data.SEQUENCES if "_test/" in f}
  train = {f for f in dummy_data.SEQUENCES if "_train/" in f}
  assert set(table["train"]) | set(table["validation"]) == train
  train_archives = {_archive(v) for v in table["train"]}
  validation_archives = {_archive(v) for v in table["validation"]}
  assert validation_archives and not train_archives & validation_archives
  assert t.skipped_by_item(builder) == {
    dummy_data.FACELESS: "no face in any frame",
    dummy_data.CORRUPT: "no frame decodes",
  }


def test_labels_frames_and_mask_flags(corpus):
  for split, videos in t.videos(corpus["official"]).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      is_fake = video_id.startswith("fake_")
      assert video["label"] == int(is_fake)
      assert video["method"] == ("wild_deepfake" if is_fake else "real")
      assert video["frames"] == wanted.tolist()
      assert video["masked"] == {not is_fake}  # no aligned real sequence: no masks for fakes
      assert video["identity"] == ""


def test_ratio_split_keeps_archives_together(corpus):
  table = t.videos(corpus["ratio_811"])
  archives = {split: {_archive(v) for v in videos} for split, videos in table.items()}
  assert all(archives.values())
  assert not archives["train"] & archives["validation"]
  assert not archives["train"] & archives["test"]
  assert not archives["validation"] & archives["test"]
  assert set().union(*map(set, table.values())) == set(dummy_data.SEQUENCES)


def test_unextracted_archives_are_explained(tmp_path):
  for category in wdb.CATEGORIES:
    (tmp_path / category).mkdir()
  (tmp_path / "real_train" / "1.tar.gz").write_bytes(b"")
  with pytest.raises(face_corpus.ManualDirError, match="holds archives but no extracted frames"):
    t.build("wild_deepfake/official", tmp_path, tmp_path / "tfds")
