"""The celeb_df builder, built for real from the dummy corpus (real face videos)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.celeb_df import celeb_df_dataset_builder as cdb
from tfds_builders.celeb_df import dummy_data

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("celeb_df"))
  data_dir = tmp_path_factory.mktemp("tfds")
  return {
    name: t.build(f"celeb_df/{name}", manual_dir, data_dir, frames_per_video=FRAMES)
    for name in ("official", "ratio_811")
  }


def _on_disk():
  return (
    [f"Celeb-real/{n}" for n in dummy_data.CELEB_REAL]
    + [f"YouTube-real/{n}" for n in dummy_data.YOUTUBE_REAL]
    + [f"Celeb-synthesis/{n}" for n in dummy_data.SYNTHESIS]
  )


def test_the_test_list_reads_1_as_real_and_0_as_fake(tmp_path):
  path = tmp_path / "list.txt"
  path.write_text("1 YouTube-real/00170.mp4\n0 Celeb-synthesis/id0_id16_0000.mp4\n\n")
  assert cdb.read_test_list(path) == [
    (0, "YouTube-real/00170.mp4"),
    (1, "Celeb-synthesis/id0_id16_0000.mp4"),
  ]
  path.write_text("real YouTube-real/00170.mp4\n")
  with pytest.raises(face_corpus.ManualDirError, match="line 1"):
    cdb.read_test_list(path)


def test_official_test_split_is_the_list_with_its_labels(corpus):
  builder = corpus["official"]
  test = t.videos(builder)["test"]
  assert {v: (d["label"], d["method"]) for v, d in test.items()} == {
    "Celeb-real/id0_0001": (0, "real"),
    "YouTube-real/00002": (0, "real"),
    "Celeb-synthesis/id0_id2_0001": (1, "celeb_synthesis"),
    "Celeb-synthesis/id4_id0_0000": (1, "celeb_synthesis"),
  }
  skipped = t.skipped_by_item(builder)
  assert skipped["Celeb-synthesis/id9_id8_0000"] == "file not found"
  assert skipped["Celeb-synthesis/id2_id3_0000.mp4"] == (
    "the list says real but Celeb-synthesis holds fake videos"
  )


def test_official_training_videos_are_the_rest_split_by_identity(corpus):
  builder = corpus["official"]
  table = t.videos(builder)
  listed = {line.split()[1][:-4] for line in dummy_data.TEST_LIST}
  rest = set(_on_disk()) - listed - {dummy_data.CORRUPT, dummy_data.FACELESS}
  assert set(table["train"]) | set(table["validation"]) == rest
  assert not set(table["train"]) & set(table["validation"])
  train_ids = {v["identity"] for v in table["train"].values()}
  validation_ids = {v["identity"] for v in table["validation"].values()}
  assert train_ids and validation_ids and not train_ids & validation_ids
  # 7 identities own the videos outside the list (id0-id4, youtube_00000/00001): 20 % is 1.
  groups = face_corpus.assign_groups(
    ["id0", "id1", "id2", "id3", "id4", "youtube_00000", "youtube_00001"],
    (0.8, 0.2),
    salt="celeb_df",
    names=("train", "validation"),
  )
  assert validation_ids == {g for g, s in groups.items() if s == "validation"}
  assert len(validation_ids) == 1
  skipped = t.skipped_by_item(builder)
  assert skipped[dummy_data.CORRUPT] == "cannot open"
  assert skipped[dummy_data.FACELESS] == "no face in any frame"
  assert len(skipped) == 4


def test_identities_frames_and_masks(corpus):
  for split, videos in t.videos(corpus["official"]).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      assert video["frames"] == wanted.tolist()
      name = video_id.split("/")[1]
      if video_id.startswith("Celeb-synthesis/"):
        target, donor, _ = name.split("_")
        assert (video["identity"], video["source_identity"]) == (target, donor)
        assert video["masked"] == {True}  # the aligned Celeb-real video exists for every fake
        assert any(t.decode_mask(r["intrinsic"]).any() for r in video["records"])
      elif video_id.startswith("YouTube-real/"):
        assert video["identity"] == f"youtube_{name}" and video["label"] == 0
      else:
        assert video["identity"] == name.split("_")[0] and video["label"] == 0
        assert not any(t.decode_mask(r["intrinsic"]).any() for r in video["records"])


def test_ratio_split_is_identity_disjoint_8_1_1(corpus):
  builder = corpus["ratio_811"]
  table = t.videos(builder)
  identities = {split: {v["identity"] for v in videos.values()} for split, videos in table.items()}
  assert all(identities.values())
  assert not identities["train"] & identities["validation"]
  assert not identities["train"] & identities["test"]
  assert not identities["validation"] & identities["test"]
  everything = set().union(*(set(videos) for videos in table.values()))
  assert everything == set(_on_disk()) - {dummy_data.CORRUPT, dummy_data.FACELESS}
  assert set(t.skipped_by_item(builder)) == {dummy_data.CORRUPT, dummy_data.FACELESS}


def test_missing_test_list_is_named(tmp_path):
  for folder in ("Celeb-real", "YouTube-real", "Celeb-synthesis"):
    (tmp_path / folder).mkdir()
  with pytest.raises(face_corpus.ManualDirError, match="List_of_testing_videos.txt"):
    t.build("celeb_df/official", tmp_path, tmp_path / "tfds")
