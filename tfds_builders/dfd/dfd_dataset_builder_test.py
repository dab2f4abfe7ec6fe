"""The dfd builder, built for real from the dummy corpus (real face videos)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.dfd import dfd_dataset_builder as dfdb
from tfds_builders.dfd import dummy_data

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def manual_dir(tmp_path_factory):
  return dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("dfd"))


@pytest.fixture(scope="module")
def builder(manual_dir, tmp_path_factory):
  return t.build("dfd/c23", manual_dir, tmp_path_factory.mktemp("tfds"), frames_per_video=FRAMES)


def test_every_video_once_split_by_actor(builder):
  table = t.videos(builder)
  prefix = {
    0: "original_sequences/actors/c23/videos/",
    1: "manipulated_sequences/DeepFakeDetection/c23/videos/",
  }
  assert set().union(*map(set, table.values())) == (
    {prefix[0] + name for name in dummy_data.REALS}
    | {prefix[1] + name for name in dummy_data.FAKES}
  )
  actors = {split: {v["identity"] for v in videos.values()} for split, videos in table.items()}
  assert [len(actors[split]) for split in face_corpus.SPLITS] == [3, 1, 1]
  assert len(set().union(*actors.values())) == 5
  assert t.skipped_by_item(builder) == {
    prefix[0] + dummy_data.CORRUPT: "cannot open",
    prefix[0] + dummy_data.FACELESS: "no face in any frame",
  }


def test_identities_frames_and_mask_sources(builder):
  for split, videos in t.videos(builder).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      name = video_id.rsplit("/", 1)[1]
      assert video["frames"] == wanted.tolist()
      if video["label"] == 0:
        assert (video["identity"], video["method"], video["masked"]) == (name[:2], "real", {True})
        continue
      assert (video["identity"], video["source_identity"]) == (name[:2], name[3:5])
      assert video["method"] == "deepfakedetection"
      assert video["masked"] == {name != dummy_data.UNALIGNED}, name
      if name in dummy_data.MASKED:
        assert all(t.decode_mask(r["intrinsic"]).any() for r in video["records"])


def test_compressions_are_configs_and_an_absent_one_is_named(manual_dir, tmp_path):
  assert [c.name for c in dfdb.Builder.BUILDER_CONFIGS] == ["raw", "c23", "c40"]
  with pytest.raises(face_corpus.ManualDirError) as error:
    t.build("dfd/c40", manual_dir, tmp_path)
  assert str(manual_dir / "original_sequences/actors/c40/videos") in str(error.value)
  assert str(manual_dir / "manipulated_sequences/DeepFakeDetection/c40/videos") in str(error.value)


def test_dfd_has_no_official_split():
  with pytest.raises(ValueError, match="no official split"):
    dfdb.DFDConfig(name="bad", protocol="official")
