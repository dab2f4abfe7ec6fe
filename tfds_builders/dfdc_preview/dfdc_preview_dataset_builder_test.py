"""The dfdc_preview builder, built for real from the dummy corpus (real face videos)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.dfdc_preview import dfdc_preview_dataset_builder as dpb
from tfds_builders.dfdc_preview import dummy_data

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("dfdcp"))
  data_dir = tmp_path_factory.mktemp("tfds")
  return {
    name: t.build(f"dfdc_preview/{name}", manual_dir, data_dir, frames_per_video=FRAMES)
    for name in ("official", "ratio_811")
  }


def _id(relative):
  return relative[: -len(".mp4")]


def test_official_splits_follow_the_set_field(corpus):
  builder = corpus["official"]
  table = t.videos(builder)
  assert set(table["test"]) == {_id(p) for p, v in dummy_data.VIDEOS.items() if v[1] == "test"}
  assert set(table["train"]) | set(table["validation"]) == {
    _id(p) for p, v in dummy_data.VIDEOS.items() if v[1] == "train"
  }
  train_ids = {v["identity"] for v in table["train"].values()}
  validation_ids = {v["identity"] for v in table["validation"].values()}
  assert len(validation_ids) == 1 and not train_ids & validation_ids
  skipped = t.skipped_by_item(builder)
  assert skipped == {
    _id(dummy_data.MISSING): "file not found",
    dummy_data.CONTRADICTION: "label 'real' contradicts the folder method_B",
    dummy_data.UNKNOWN_SET: "entry needs 'label' in {real, fake} and 'set' in {train, test}",
    _id(dummy_data.CORRUPT): "cannot open",
    _id(dummy_data.FACELESS): "no face in any frame",
  }


def test_labels_methods_identities_frames(corpus):
  for split, videos in t.videos(corpus["official"]).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      label, _, person, _, _ = dummy_data.VIDEOS[f"{video_id}.mp4"]
      assert video["label"] == {"real": 0, "fake": 1}[label]
      folder = video_id.split("/")[0]
      assert (
        video["method"]
        == {"original_videos": "real", "method_A": "method_a", "method_B": "method_b"}[folder]
      )
      assert video["identity"] == str(person)
      assert video["frames"] == wanted.tolist()
      assert video["masked"] == {video["label"] == 0}


def test_ratio_split_is_identity_disjoint(corpus):
  table = t.videos(corpus["ratio_811"])
  identities = {split: {v["identity"] for v in videos.values()} for split, videos in table.items()}
  assert all(identities.values())
  assert sum(map(len, identities.values())) == len(set().union(*identities.values())) == 5
  assert set().union(*map(set, table.values())) == {_id(p) for p in dummy_data.VIDEOS}


def test_identity_is_the_participant_folder():
  assert dpb.identity_of("method_A/1255229/1255229_A/00196.mp4") == "1255229"
  assert dpb.identity_of("original_videos/x.mp4") == "x"
