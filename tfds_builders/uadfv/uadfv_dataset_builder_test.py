"""The uadfv builder, built for real from the dummy corpus (real face videos)."""

import pytest

from fakenas_jax.data import face_corpus, faces
from tfds_builders import face_corpus_testing as t
from tfds_builders.uadfv import dummy_data
from tfds_builders.uadfv import uadfv_dataset_builder as ub

FRAMES = (3, 2, 2)


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
  manual_dir = dummy_data.write_dummy_corpus(tmp_path_factory.mktemp("uadfv"))
  return t.build("uadfv", manual_dir, tmp_path_factory.mktemp("tfds"), frames_per_video=FRAMES)


def test_split_by_person_with_both_videos_together(builder):
  table = t.videos(builder)
  people = {split: {v["identity"] for v in videos.values()} for split, videos in table.items()}
  assert [len(people[split]) for split in face_corpus.SPLITS] == [3, 1, 1]
  assert set().union(*people.values()) == set(dummy_data.PEOPLE)
  expected = {f"real/{p}" for p in dummy_data.PEOPLE}
  expected |= {f"fake/{p}_fake" for p in dummy_data.PEOPLE}
  expected -= {dummy_data.CORRUPT, dummy_data.FACELESS}
  assert set().union(*map(set, table.values())) == expected
  assert t.skipped_by_item(builder) == {
    dummy_data.CORRUPT: "cannot open",
    dummy_data.FACELESS: "no face in any frame",
  }


def test_labels_frames_and_no_masks_for_fakes(builder):
  for split, videos in t.videos(builder).items():
    wanted = faces.sample_frame_indices(t.FRAMES, FRAMES[face_corpus.SPLITS.index(split)])
    for video_id, video in videos.items():
      is_fake = video_id.startswith("fake/")
      assert (video["label"], video["method"]) == ((1, "deepfakes") if is_fake else (0, "real"))
      assert video["identity"] == video_id.split("/")[1][:4]
      assert video["frames"] == wanted.tolist()
      assert video["masked"] == {not is_fake}


def test_uadfv_has_one_config_and_no_official_split():
  assert [c.name for c in ub.Builder.BUILDER_CONFIGS] == ["ratio_811"]
  with pytest.raises(ValueError, match="no official split"):
    ub.UADFVConfig(name="bad", protocol="official")
