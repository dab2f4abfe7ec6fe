"""No builder reads a file outside its manual directory: split and metadata entries with `..`,
absolute paths and symlinks that point out are skipped with their reason (face_corpus docstring).

Every corpus gets its dummy manual directory plus real media outside it that an entry or a
symlink names; FF++, DFDC-preview and ASVspoof 2019 LA are built for real, the others are
checked on the list of videos a build reads (`videos_by_split`, the step before any decoding).
"""

import json
import os
import pathlib

import numpy as np
import soundfile

from fakenas_jax.data import corpora, face_corpus, preparation
from tfds_builders import face_corpus_testing as t

OUTSIDE = "resolves outside the manual directory"


def _layout(tmp_path):
  """(manual_dir, outside dir): siblings, so `..` from the manual directory reaches outside."""
  manual, outside = tmp_path / "manual", tmp_path / "outside"
  manual.mkdir()
  outside.mkdir()
  return manual, outside


def _ids(builder):
  return {video_id for videos in t.videos(builder).values() for video_id in videos}


def test_outside_manual_dir_resolves_dots_absolute_paths_and_symlinks(tmp_path):
  manual, outside = _layout(tmp_path)
  (outside / "x.mp4").write_bytes(b"x")
  (manual / "a").mkdir()
  (manual / "a" / "in.mp4").write_bytes(b"x")
  (manual / "link_out.mp4").symlink_to(outside / "x.mp4")
  (manual / "link_in.mp4").symlink_to(manual / "a" / "in.mp4")
  (manual / "dir_out").symlink_to(outside, target_is_directory=True)
  inside = [
    manual / "a" / "in.mp4",
    manual / "link_in.mp4",
    manual / "a" / ".." / "a" / "in.mp4",
    manual / "a" / "not_there.mp4",
  ]
  assert [face_corpus.outside_manual_dir(p, manual) for p in inside] == [None] * 4
  for path in (
    manual / "a" / ".." / ".." / "outside" / "x.mp4",
    outside / "x.mp4",
    manual / "link_out.mp4",
    manual / "dir_out" / "x.mp4",
    manual / ".." / "nothing",
    manual,
    pathlib.Path("/etc/passwd"),
  ):
    reason = face_corpus.outside_manual_dir(path, manual)
    assert reason and reason.startswith(OUTSIDE), path
  # A manual directory that is itself a symlink: what lies in its target is inside.
  (tmp_path / "manual_link").symlink_to(manual, target_is_directory=True)
  assert (
    face_corpus.outside_manual_dir(
      tmp_path / "manual_link" / "a" / "in.mp4", tmp_path / "manual_link"
    )
    is None
  )


def test_faceforensics_split_pairs_with_dots_are_skipped(tmp_path):
  from tfds_builders.faceforensics import dummy_data

  manual, outside = _layout(tmp_path)
  dummy_data.write_dummy_corpus(manual, compressions=("c23",))
  # originals are <manual>/original_sequences/youtube/c23/videos: five levels below tmp_path.
  escape = "../../../../../outside/999"
  t.write_real(outside / "999.mp4", 3)
  test_file = manual / "splits" / "test.json"
  pairs = json.loads(test_file.read_text())
  test_file.write_text(json.dumps(pairs + [[escape, "/abs/998"]]))
  builder = t.build(
    "faceforensics/deepfakes_c23", manual, tmp_path / "tfds", frames_per_video=(2, 1, 1)
  )
  skipped = t.skipped_by_item(builder)
  prefix = "original_sequences/youtube/c23/videos/"
  assert skipped[prefix + escape].startswith(OUTSIDE)
  assert skipped[os.path.relpath("/abs/998", manual)].startswith(OUTSIDE)
  assert not any("999" in video_id or "998" in video_id for video_id in _ids(builder))
  assert t.videos(builder)["test"]  # the good test videos are still there


def test_dfdc_preview_index_keys_with_dots_and_symlinks_are_skipped(tmp_path):
  from tfds_builders.dfdc_preview import dummy_data

  manual, outside = _layout(tmp_path)
  dummy_data.write_dummy_corpus(manual)
  t.write_real(outside / "x.mp4", 1)
  link = manual / "original_videos" / "103" / "103_A" / "link.mp4"
  link.symlink_to(outside / "x.mp4")
  index = json.loads((manual / "dataset.json").read_text())
  escape = "original_videos/../../outside/x.mp4"
  index[escape] = {"label": "real", "set": "test"}
  index["original_videos/103/103_A/link.mp4"] = {"label": "real", "set": "test"}
  (manual / "dataset.json").write_text(json.dumps(index))
  builder = t.build("dfdc_preview/official", manual, tmp_path / "tfds", frames_per_video=(2, 1, 1))
  skipped = t.skipped_by_item(builder)
  assert skipped["original_videos/../../outside/x"].startswith(OUTSIDE)
  assert skipped["original_videos/103/103_A/link"].startswith(OUTSIDE)
  assert str(outside / "x.mp4") in skipped["original_videos/103/103_A/link"]
  test_ids = set(t.videos(builder)["test"])
  assert test_ids == {p[:-4] for p, v in dummy_data.VIDEOS.items() if v[1] == "test"}


def test_asvspoof_protocol_entries_with_dots_and_symlinks_are_skipped(tmp_path):
  from tfds_builders.asvspoof2019_la import asvspoof2019_la_dataset_builder as la

  manual, outside = _layout(tmp_path)
  root = manual / "LA"
  rng = np.random.default_rng(0)
  lines = {split: [] for split in la.SPLITS}
  for split in la.SPLITS:
    la.audio_dir(root, split).mkdir(parents=True)
    name = f"LA_{split[0].upper()}_0000001"
    soundfile.write(
      str(la.audio_dir(root, split) / f"{name}.flac"),
      rng.integers(-9000, 9000, 4000).astype(np.int16),
      la.SAMPLE_RATE,
    )
    lines[split].append(f"LA_0001 {name} - - bonafide")
  soundfile.write(
    str(outside / "secret.flac"), rng.integers(-9000, 9000, 4000).astype(np.int16), la.SAMPLE_RATE
  )
  (la.audio_dir(root, "train") / "LA_T_link.flac").symlink_to(outside / "secret.flac")
  lines["train"] += [
    "LA_0001 ../../../../outside/secret - A01 spoof",
    "LA_0001 LA_T_link - A02 spoof",
  ]
  (root / la.PROTOCOL_DIR).mkdir()
  for split in la.SPLITS:
    la.protocol_path(root, split).write_text("\n".join(lines[split]) + "\n")
  summary = preparation.prepare("asvspoof2019_la", tmp_path / "tfds", manual_dir=str(manual))
  reasons = {item["item"]: item["reason"] for item in summary.skipped}
  assert reasons["../../../../outside/secret"].startswith(OUTSIDE)
  assert reasons["LA_T_link"].startswith(OUTSIDE)
  assert summary.splits["train"].examples == 1


def _listed(spec, manual, tmp_path):
  """The builder of `spec` and the videos a build of `manual` would read, per split."""
  builder = corpora.load_builder(spec, str(tmp_path / "tfds"))
  return builder, builder.videos_by_split(manual)


def _check_refused(builder, by_split, refused):
  skipped = {entry["item"]: entry["reason"] for entry in builder.skipped}
  for item in refused:
    assert OUTSIDE in skipped[item], (item, skipped.get(item))
  read = {item.video_id for items in by_split.values() for item in items}
  assert not read & set(refused) and read


def test_celeb_df_symlinks_out_are_skipped(tmp_path):
  from tfds_builders.celeb_df import dummy_data

  manual, outside = _layout(tmp_path)
  dummy_data.write_dummy_corpus(manual)
  t.write_real(outside / "x.mp4", 1)
  (manual / "Celeb-real" / "id7_0000.mp4").symlink_to(outside / "x.mp4")
  (manual / "Celeb-synthesis" / "id7_id0_0000.mp4").symlink_to(outside / "x.mp4")
  with open(manual / "List_of_testing_videos.txt", "a") as handle:
    handle.write("0 Celeb-synthesis/id7_id0_0000.mp4\n1 Celeb-real/../../outside/x.mp4\n")
  for config in ("official", "ratio_811"):
    builder, by_split = _listed(f"celeb_df/{config}", manual, tmp_path)
    _check_refused(builder, by_split, ["Celeb-real/id7_0000", "Celeb-synthesis/id7_id0_0000"])
    if config == "official":  # the list's `..` entry: refused by its folder already
      skipped = {entry["item"]: entry["reason"] for entry in builder.skipped}
      assert "Celeb-real/../../outside/x.mp4" in skipped


def test_dfd_and_uadfv_symlinks_out_are_skipped(tmp_path):
  from tfds_builders.dfd import dummy_data as dfd_data
  from tfds_builders.uadfv import dummy_data as uadfv_data

  manual, outside = _layout(tmp_path)
  t.write_real(outside / "x.mp4", 1)
  dfd = manual / "dfd"
  dfd_data.write_dummy_corpus(dfd, compressions=("c23",))
  videos = dfd / "manipulated_sequences" / "DeepFakeDetection" / "c23" / "videos"
  (videos / "01_02__walk__ABCDEFGH.mp4").symlink_to(outside / "x.mp4")
  # A fake inside whose aligned real video is a symlink out: the pair is refused too.
  reals = dfd / "original_sequences" / "actors" / "c23" / "videos"
  (reals / "06__run.mp4").symlink_to(outside / "x.mp4")
  t.copy(next(videos.glob("*.mp4")), videos / "06_01__run__ABCDEFGH.mp4")
  builder, by_split = _listed("dfd/c23", dfd, tmp_path)
  fake = "manipulated_sequences/DeepFakeDetection/c23/videos/"
  _check_refused(
    builder,
    by_split,
    [
      fake + "01_02__walk__ABCDEFGH",
      "original_sequences/actors/c23/videos/06__run",
      fake + "06_01__run__ABCDEFGH",
    ],
  )
  skipped = {entry["item"]: entry["reason"] for entry in builder.skipped}
  assert skipped[fake + "06_01__run__ABCDEFGH"].startswith("aligned real video " + OUTSIDE)

  uadfv = manual / "uadfv"
  uadfv_data.write_dummy_corpus(uadfv)
  (uadfv / "fake" / "0099_fake.mp4").symlink_to(outside / "x.mp4")
  builder, by_split = _listed("uadfv", uadfv, tmp_path)
  _check_refused(builder, by_split, ["fake/0099_fake"])


def test_frame_folders_with_symlinks_out_are_skipped(tmp_path):
  from tfds_builders.df_timit import dummy_data as timit_data
  from tfds_builders.wild_deepfake import dummy_data as wild_data

  manual, outside = _layout(tmp_path)
  t.write_frames(outside / "frames", t.face_frames(1))
  wild = manual / "wild"
  wild_data.write_dummy_corpus(wild)
  sequence = wild / "real_test" / "1" / "real" / "9"
  sequence.mkdir()
  for frame in sorted((outside / "frames").iterdir()):
    (sequence / frame.name).symlink_to(frame)
  builder, by_split = _listed("wild_deepfake/official", wild, tmp_path)
  _check_refused(builder, by_split, ["real_test/1/real/9"])
  skipped = {entry["item"]: entry["reason"] for entry in builder.skipped}
  assert skipped["real_test/1/real/9"].startswith("frame 1.png " + OUTSIDE)

  timit = manual / "timit"
  timit_data.write_dummy_corpus(timit)
  recordings = timit / "VidTIMIT" / timit_data.SUBJECTS[0] / "video"
  (recordings / "si9").symlink_to(outside / "frames", target_is_directory=True)
  builder, by_split = _listed("df_timit/hq", timit, tmp_path)
  _check_refused(builder, by_split, [f"VidTIMIT/{timit_data.SUBJECTS[0]}/video/si9"])


def test_asvspoof_protocol_builders_refuse_entries_outside(tmp_path):
  """ASVspoof 5 (and 2021, the same shared builder): a key-file entry with `..` or a FLAC
  symlink pointing out is skipped."""
  from tfds_builders import asvspoof_protocol
  from tfds_builders.asvspoof5 import asvspoof5_dataset_builder as five

  manual, outside = _layout(tmp_path)
  folder = manual / five.Builder.SPLIT_FILES["train"][1]
  escape = os.path.relpath(outside / "secret", folder)
  rows = [
    ("train", "T_1 T_0000000001 F - - - bonafide bonafide bonafide -".split(), "ok"),
    ("train", f"T_1 {escape} F - - - AC3 A05 spoof -".split(), "missing"),
    ("train", "T_1 T_link F - - - AC3 A05 spoof -".split(), "missing"),
    ("dev", "D_1 D_0000000001 M - - - bonafide bonafide bonafide -".split(), "ok"),
    ("eval", "E_1 E_0000000001 F - 0 0 bonafide bonafide bonafide -".split(), "ok"),
  ]
  asvspoof_protocol.write_dummy_corpus(manual, five.Builder, rows)
  rng = np.random.default_rng(1)
  soundfile.write(
    str(outside / "secret.flac"), rng.integers(-9000, 9000, 4000).astype(np.int16), 16000
  )
  (folder / "T_link.flac").symlink_to(outside / "secret.flac")
  summary = preparation.prepare("asvspoof5", tmp_path / "tfds", manual_dir=str(manual))
  reasons = {item["item"]: item["reason"] for item in summary.skipped}
  assert reasons[escape].startswith(OUTSIDE) and reasons["T_link"].startswith(OUTSIDE)
  assert summary.splits["train"].examples == 1
