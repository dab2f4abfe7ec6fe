"""`predict`: a real photograph, a video written with OpenCV and a corrupt file in one call,
scored by a tiny Meso-4 trained for real; JSON/CSV consistency; preprocessing as in training."""

import csv
import json
import os
import pathlib
import subprocess
import sys

import cv2
import jax
import numpy as np
import pytest
from skimage import data

from configs.train import default
from fakenas_jax.data import preprocess
from fakenas_jax.data.faces import crop as crop_lib
from fakenas_jax.data.faces import detection, dummy_videos, photos, video_io
from fakenas_jax.eval import predict_files as pf
from fakenas_jax.training import steps, trainer

ROOT = pathlib.Path(__file__).resolve().parents[1]
VIDEO_FRAMES = 6


@pytest.fixture(scope="module")
def run(tiny_corpus, tmp_path_factory):
  """A Meso-4 at 32×32 trained for one epoch on the tiny corpus: its workdir."""
  spec, data_dir, overrides = tiny_corpus
  config = default.get_config()
  config.dataset, config.data_dir, config.corpus_overrides = spec, data_dir, overrides
  config.image_size, config.batch_size, config.eval_batch_size = 32, 4, 4
  config.frames_per_video, config.eval_frames_per_video = 0, 0
  config.epochs, config.progress = 1, False
  workdir = tmp_path_factory.mktemp("predict_run")
  trainer.train_and_evaluate(config, workdir, devices=jax.devices()[:1])
  return workdir


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
  folder = tmp_path_factory.mktemp("predict_inputs")
  photo = folder / "astronaut.png"
  cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
  video = folder / "talking.avi"
  dummy_videos.write_face_video(video, num_frames=VIDEO_FRAMES, size=(160, 120), seed=3)
  corrupt = folder / "broken.mp4"
  dummy_videos.write_corrupt_video(corrupt, kind="garbage")
  return photo, video, corrupt


@pytest.fixture(scope="module")
def predicted(run, inputs, tmp_path_factory):
  output = tmp_path_factory.mktemp("predict_out")
  report = pf.predict_files(
    run, inputs, output, frames_per_video=3, overlays=True, annotated_video=True, batch_size=4
  )
  return report, output


def test_photo_video_and_corrupt_file_in_one_call(predicted, inputs):
  report, _ = predicted
  photo, video, corrupt = (str(path) for path in inputs)
  assert [f["file"] for f in report["files"]] == [photo, video, corrupt]
  image, clip, broken = report["files"]
  assert report["checkpoint"] == "best" and report["model"] == "meso4"
  assert report["image_size"] == 32 and report["crop"]["crop_size"] == 32
  assert 0.2 < report["crop"]["margin"] < 0.5  # the synthetic renderer's framing

  assert image["status"] == "ok" and image["kind"] == "image" and image["frames_scored"] == 1
  (face,) = image["frames"][0]["faces"]
  left, top, right, bottom = face["box"]
  x0, y0, x1, y1 = photos.load_photo("astronaut").face_box
  overlap = max(0, min(right, x1) - max(left, x0)) * max(0, min(bottom, y1) - max(top, y0))
  union = (right - left) * (bottom - top) + (x1 - x0) * (y1 - y0) - overlap
  assert overlap / union > 0.5  # the detector found Eileen Collins' face
  assert 0.0 <= image["p_fake"] <= 1.0 and image["label"] in ("real", "fake")

  assert clip["status"] == "ok" and clip["kind"] == "video"
  assert clip["frame_count"] == VIDEO_FRAMES
  indices = [frame["frame_index"] for frame in clip["frames"]]
  assert indices == list(video_io.sample_frame_indices(VIDEO_FRAMES, 3))
  for frame in clip["frames"]:
    assert frame["faces"], frame
    assert frame["p_fake"] == max(f["p_fake"] for f in frame["faces"])
  assert clip["p_fake"] == pytest.approx(np.mean([f["p_fake"] for f in clip["frames"]]), abs=1e-6)

  assert broken["status"] == "error" and broken["p_fake"] is None
  assert "cannot open" in broken["message"] and not broken["frames"]


def test_json_and_csv_agree(predicted):
  report, output = predicted
  stored = json.loads((output / "predictions.json").read_text())
  assert stored["files"] == json.loads(json.dumps(report["files"]))

  with open(output / "files.csv") as handle:
    files = list(csv.DictReader(handle))
  assert [row["file"] for row in files] == [f["file"] for f in report["files"]]
  for row, result in zip(files, report["files"]):
    assert row["status"] == result["status"]
    if result["p_fake"] is None:
      assert row["p_fake"] == "" and row["message"] == result["message"]
    else:
      assert float(row["p_fake"]) == pytest.approx(result["p_fake"])
  with open(output / "frames.csv") as handle:
    frames = list(csv.DictReader(handle))
  expected = [
    (f["file"], fr["frame_index"], fr["p_fake"]) for f in report["files"] for fr in f["frames"]
  ]
  assert [(r["file"], int(r["frame_index"]), float(r["p_fake"])) for r in frames] == expected
  with open(output / "faces.csv") as handle:
    faces = list(csv.DictReader(handle))
  assert len(faces) == sum(len(fr["faces"]) for f in report["files"] for fr in f["frames"])
  # A file's score is the mean of its frames' rows in frames.csv.
  video = report["files"][1]["file"]
  assert np.mean([float(r["p_fake"]) for r in frames if r["file"] == video]) == pytest.approx(
    float(files[1]["p_fake"]), abs=1e-5
  )


def test_overlays_and_annotated_video(predicted):
  report, output = predicted
  image, clip, _ = report["files"]
  assert len(image["overlays"]) == 1 and len(clip["overlays"]) == 3
  for path in image["overlays"] + clip["overlays"]:
    assert pathlib.Path(path).parent == output / "overlays"
    assert cv2.imread(path) is not None
  assert report["gradcam_layer"] == "bn4"
  capture = cv2.VideoCapture(clip["annotated_video"])
  count = 0
  while capture.read()[0]:
    count += 1
  capture.release()
  assert count == VIDEO_FRAMES  # every frame, not only the scored ones
  assert "annotated_video" not in image


def test_face_is_preprocessed_as_in_training(predicted, run, inputs):
  """Re-score the photo's face as a face corpus stores it (a PNG crop of crop_size) and the
  training pipeline decodes it (decode_frame, batch_to_float): the same P(fake)."""
  report, _ = predicted
  photo = cv2.cvtColor(cv2.imread(str(inputs[0])), cv2.COLOR_BGR2RGB)
  face = report["files"][0]["frames"][0]["faces"][0]
  stored = crop_lib.crop_square(photo, tuple(face["crop_box"]), report["crop"]["crop_size"])
  encoded = cv2.imencode(".png", cv2.cvtColor(stored, cv2.COLOR_RGB2BGR))[1].tobytes()
  frame = preprocess.decode_frame({"image": encoded}, image_size=report["image_size"])
  batch = preprocess.batch_to_float(
    {"image": frame["image"][None]},
    mean=preprocess.channel_stats(0.5, "mean"),
    std=preprocess.channel_stats(0.5, "std"),
  )
  predictor = pf.Predictor(run)
  p_fake = jax.jit(steps.make_predict_step(predictor.model))(predictor.variables, batch["image"])[
    "p_fake"
  ]
  assert float(p_fake[0]) == pytest.approx(face["p_fake"], abs=1e-5)


def test_every_n_and_faceless_frames(run, tmp_path):
  faceless = tmp_path / "empty.avi"
  dummy_videos.write_faceless_video(faceless, num_frames=4)
  video = tmp_path / "face.avi"
  dummy_videos.write_face_video(video, num_frames=5)
  report = pf.predict_files(
    run, [faceless, video, tmp_path / "absent.jpg"], tmp_path / "out", every_n=2
  )
  empty, clip, absent = report["files"]
  assert empty["status"] == "no_face" and "no face" in empty["message"]
  assert [frame["frame_index"] for frame in empty["frames"]] == [0, 2]
  assert all(frame["message"] == "no face" for frame in empty["frames"])
  assert clip["status"] == "ok"
  assert [frame["frame_index"] for frame in clip["frames"]] == [0, 2, 4]
  assert absent["status"] == "error" and absent["message"] == "no such file"
  assert report["every_n"] == 2 and report["frames_per_video"] is None


def test_frames_past_the_end_of_a_truncated_video(run, tmp_path):
  """An AVI cut to a third still reports its 8 frames but decodes only the first ones: the
  frames it promised and did not give are reported, the decodable ones scored."""
  path = tmp_path / "cut.avi"
  dummy_videos.write_corrupt_video(path, kind="truncated")
  (result,) = pf.predict_files(run, [path], tmp_path / "out", frames_per_video=8)["files"]
  assert result["frame_count"] == 8 and result["frames_selected"] == 8
  decoded = [frame for frame in result["frames"] if frame["faces"]]
  assert decoded and result["status"] == "ok"
  last = max(frame["frame_index"] for frame in decoded)
  missing = [frame for frame in result["frames"] if frame["frame_index"] > last]
  assert missing and all(frame["message"].startswith("truncated after frame") for frame in missing)


def test_workdir_without_a_detector(tmp_path):
  with pytest.raises(FileNotFoundError, match="python -m fakenas_jax.train --workdir="):
    pf.predict_files(tmp_path / "nothing", [tmp_path / "a.png"])


def test_command_line(run, inputs, tmp_path):
  result = subprocess.run(
    [
      sys.executable,
      "-m",
      "fakenas_jax.predict",
      f"--workdir={run}",
      f"--output={tmp_path}",
      "--checkpoint=latest",
      str(inputs[0]),
      str(inputs[2]),
    ],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
    env={**os.environ, "JAX_PLATFORMS": "cpu"},
  )
  assert result.returncode == 1, result.stderr  # one of the two files failed
  assert "astronaut.png" in result.stdout
  assert f"{inputs[2]}: cannot open" in result.stdout
  assert "2 files: 1 scored (" in result.stdout and "1 failed" in result.stdout
  assert "caveat: the detector was trained on synthetic faces only" in result.stdout
  stored = json.loads((tmp_path / "predictions.json").read_text())
  assert stored["checkpoint"] == "latest" and len(stored["files"]) == 2
  missing = subprocess.run(
    [sys.executable, "-m", "fakenas_jax.predict", f"--workdir={tmp_path / 'none'}", str(inputs[0])],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=120,
  )
  assert missing.returncode == 2
  assert "python -m fakenas_jax.train --workdir=" in missing.stderr


def test_caveats_summary_and_exit_code(predicted):
  report, _ = predicted
  image, clip, _ = report["files"]
  assert len(report["caveats"]) == 1 and "synthetic faces only" in report["caveats"][0]
  # The astronaut's face crop is ~4-5x the 32 px training crop; the video's faces are not.
  (caveat,) = image["caveats"]
  side = image["frames"][0]["faces"][0]["crop_box"][2]
  assert side >= pf.RESOLUTION_FACTOR * 32 and f"{side} px" in caveat and "32 px" in caveat
  assert clip["caveats"] == []
  fakes = sum(f["label"] == "fake" for f in report["files"][:2])
  assert pf.summary_line(report) == f"3 files: 2 scored ({fakes} fake, {2 - fakes} real), 1 failed"
  assert pf.exit_code(report) == 1
  assert pf.exit_code({"files": report["files"][:2]}) == 0
  assert (
    report["frame_score"] == pf.FRAME_SCORES["max"]
    and report["min_face_score"] == detection.DEFAULT_MIN_SCORE["hog"]
  )


def test_frame_score_max_or_mean_over_faces(run, tmp_path):
  """Two people in one picture: the frame's P(fake) is the max, or the mean, of theirs."""
  left = cv2.resize(data.astronaut(), (300, 300))
  right = cv2.resize(photos.load_photo("grace_hopper").image, (256, 300))
  both = tmp_path / "two.png"
  cv2.imwrite(str(both), cv2.cvtColor(np.concatenate([left, right], axis=1), cv2.COLOR_RGB2BGR))
  results = {}
  for rule in ("max", "mean"):
    report = pf.predict_files(run, [both], tmp_path / rule, frame_score=rule, batch_size=4)
    (frame,) = report["files"][0]["frames"]
    assert len(frame["faces"]) == 2
    scores = [face["p_fake"] for face in frame["faces"]]
    expected = max(scores) if rule == "max" else np.mean(scores)
    assert frame["p_fake"] == pytest.approx(expected, abs=1e-6)
    assert report["frame_score"] == pf.FRAME_SCORES[rule]
    results[rule] = frame["p_fake"]
  assert results["max"] >= results["mean"]
  with pytest.raises(ValueError, match="frame_score"):
    pf.PredictOptions(frame_score="median")


def test_overlay_titles_fit_the_picture():
  from fakenas_jax.eval import gradcam

  title = "P(fake) 0.734 - frame 12 face 0 - a_rather_long_file_name_of_a_video_clip.mp4"
  lines = gradcam.fit_lines(title, 150)
  assert len(lines) > 1 and "".join(lines).replace(" ", "") == title.replace(" ", "")
  assert all(gradcam._text_width(line) <= 150 for line in lines)
  face = np.zeros((32, 32, 3), np.uint8)
  picture = gradcam.overlay_figure(face, np.zeros((32, 32)), title=title)
  assert picture.shape[0] == 160 + 22 + 6 + 20 * len(gradcam.fit_lines(title, picture.shape[1] - 8))
