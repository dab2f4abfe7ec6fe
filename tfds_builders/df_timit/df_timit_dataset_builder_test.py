"""The df_timit builder, built for real from the dummy corpus (videos and VidTIMIT frames)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.df_timit import df_timit_dataset_builder as dtb
from tfds_builders.df_timit import dummy_data

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("dftimit"))
  data_dir = tmp_path_factory.mktemp("tfds")
  return {
    quality: t.build(f"df_timit/{quality}", manual_dir, data_dir, frames_per_video=FRAMES)
    for quality in ("lq", "hq")
  }


@pytest.mark.parametrize("quality", ["lq", "hq"])
def test_videos_split_by_swap_pair(corpus, quality):
  builder = corpus[quality]
  folder = f"DeepfakeTIMIT/{dtb.QUALITY_FOLDERS[quality]}"
  table = t.videos(builder)
  fakes = {f"{folder}/{s}/sa1-video-{dummy_data.other(s)}" for s in dummy_data.SUBJECTS}
  reals = {
    f"VidTIMIT/{s}/video/{u}"
    for s in dummy_data.SUBJECTS
    for u in dummy_data.UTTERANCES
    if s != dummy_data.NO_VIDTIMIT
  }
  faceless = f"{folder}/{dummy_data.FACELESS}"
  assert set().union(*map(set, table.values())) == (fakes | reals) - {faceless, dummy_data.CORRUPT}
  pair_of = {s: frozenset(pair) for pair in dummy_data.PAIRS for s in pair}
  pairs = {
    split: {pair_of[v["identity"]] for v in videos.values()} for split, videos in table.items()
  }
  assert [len(pairs[split]) for split in face_corpus.SPLITS] == [1, 1, 1]
  assert len(set().union(*pairs.values())) == 3
  assert t.skipped_by_item(builder) == {
    faceless: "no face in any frame",
    dummy_data.CORRUPT: "no frame decodes",
    f"VidTIMIT/{dummy_data.NO_VIDTIMIT}/video": "real recordings of this subject not found",
  }


def test_frame_folders_are_read_as_videos(corpus):
  for split, videos in t.videos(corpus["hq"]).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      assert video["frames"] == wanted.tolist(), video_id
      if video_id.startswith("VidTIMIT/"):
        assert (video["label"], video["method"]) == (0, "real")
        assert video["identity"] == video_id.split("/")[1]
      else:
        subject = video_id.split("/")[2]
        assert (video["label"], video["method"]) == (1, "deepfaketimit")
        assert (video["identity"], video["source_identity"]) == (subject, dummy_data.other(subject))
        assert video["masked"] == {False}


def test_swap_pairs_become_groups():
  groups = dtb.swap_pair_groups([("b", "a"), ("c", "d"), ("a", "b"), ("e", "e"), ("d", "f")])
  assert groups == {"a": "a", "b": "a", "c": "c", "d": "c", "f": "c", "e": "e"}
