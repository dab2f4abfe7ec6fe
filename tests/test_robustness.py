"""Robustness transforms, partial-face sets and a robustness run end to end on a tiny trained run."""

import json

import jax
import numpy as np
import pytest

from configs.eval import robustness as robustness_config
from configs.train import default
from fakenas_jax.data import degradations, masks, pipeline, synthetic
from fakenas_jax.eval import partial_faces, robustness
from fakenas_jax.training import trainer

DEVICES = jax.devices()[:1]
SIZE = 64


@pytest.fixture(scope="module")
def frame():
  """A rendered face frame (textured, not flat) and its 68 landmarks."""
  video = synthetic.generate_video(
    synthetic.RECIPES["wild"], seed=(7,), target_identity=3, num_frames=4, resolution=SIZE
  )
  return video


def test_jpeg_size_and_fidelity_grow_with_quality(frame):
  image = frame.frames[0].image
  qualities = (60, 70, 80, 90, 100)
  sizes = [len(degradations.jpeg_bytes(image, q)) for q in qualities]
  fidelity = [degradations.psnr(image, degradations.jpeg(image, q)) for q in qualities]
  assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
  assert fidelity == sorted(fidelity) and len(set(fidelity)) == len(fidelity)
  assert degradations.jpeg(image, 60).shape == image.shape
  with pytest.raises(ValueError, match="quality"):
    degradations.jpeg(image, 0)


def test_blur_is_the_identity_at_zero_and_a_3x3_kernel(frame):
  image = frame.frames[0].image
  np.testing.assert_array_equal(degradations.gaussian_blur(image, 0.0), image)
  blurred = degradations.gaussian_blur(image, 0.5)
  assert blurred.shape == image.shape and not np.array_equal(blurred, image)
  assert degradations.psnr(image, degradations.gaussian_blur(image, 0.3)) > degradations.psnr(
    image, blurred
  )
  impulse = np.zeros((9, 9, 3), np.uint8)
  impulse[4, 4] = 255
  spread = degradations.gaussian_blur(impulse, 0.5)
  assert spread[3:6, 3:6].all() and spread.sum() == spread[3:6, 3:6].sum()  # 3×3 support
  weights = spread[3:6, 3:6, 0].astype(float) / 255
  assert weights.sum() == pytest.approx(1.0, abs=0.02) and weights[1, 1] == weights.max()


def test_noise_has_the_asked_standard_deviation():
  grey = np.full((256, 256, 3), 128, np.uint8)
  for sigma in (2.0, 5.0, 10.0):
    noisy = degradations.gaussian_noise(grey, sigma, np.random.default_rng(0))
    residual = noisy.astype(float) - 128
    assert residual.std() == pytest.approx(sigma, rel=0.03)
    assert abs(residual.mean()) < 0.1
  np.testing.assert_array_equal(
    degradations.gaussian_noise(grey, 0.0, np.random.default_rng(0)), grey
  )
  one = degradations.gaussian_noise(grey, 5.0, np.random.default_rng(4))
  np.testing.assert_array_equal(
    one, degradations.gaussian_noise(grey, 5.0, np.random.default_rng(4))
  )


def test_resize_round_trip(frame):
  image = frame.frames[0].image
  np.testing.assert_array_equal(degradations.rescale(image, 1.0), image)
  errors = []
  for scale in (0.8, 0.5, 0.25, 0.1):
    out = degradations.rescale(image, scale)
    assert out.shape == image.shape and out.dtype == np.uint8
    errors.append(np.abs(out.astype(float) - image).mean())
  assert errors == sorted(errors) and errors[0] > 0
  # A smooth image survives halving and doubling.
  ramp = np.repeat(np.linspace(0, 255, SIZE)[None, :, None], SIZE, 0).repeat(3, 2)
  ramp = np.rint(ramp).astype(np.uint8)
  assert np.abs(degradations.rescale(ramp, 0.5)[:, 2:-2].astype(float) - ramp[:, 2:-2]).max() <= 3


def test_h264_round_trip_loses_more_at_higher_crf(frame):
  frames = np.stack([f.image for f in frame.frames])
  psnr = {}
  for crf in (5, 30):
    out = degradations.h264(frames, crf)
    assert out.shape == frames.shape and out.dtype == np.uint8
    psnr[crf] = np.mean([degradations.psnr(a, b) for a, b in zip(frames, out)])
  assert psnr[5] > psnr[30] + 3 and psnr[5] > 30
  odd = degradations.h264(frames[:, :63, :61], 20)  # odd sides are padded and cropped back
  assert odd.shape == (4, 63, 61, 3)


def _inside(mask, points):
  points = np.round(points).astype(int)
  return mask[points[:, 1], points[:, 0]] > 0


def test_partial_region_masks_cover_their_landmarks():
  recipe = synthetic.RECIPES["wild"]  # wide poses
  for seed in range(4):
    landmarks = (
      synthetic.generate_video(
        recipe, seed=(seed,), target_identity=seed, num_frames=1, resolution=128
      )
      .frames[0]
      .landmarks
    )
    regions = {
      name: partial_faces.region_mask(name, landmarks, (128, 128)) for name in partial_faces.REGIONS
    }
    eyes = landmarks[36:48]
    mouth = landmarks[48:68]
    assert _inside(regions["eyes"], eyes).all() and not _inside(regions["eyes"], mouth).any()
    assert _inside(regions["mouth"], mouth).all() and not _inside(regions["mouth"], eyes).any()
    assert _inside(regions["nose"], landmarks[27:36]).all()
    assert not _inside(regions["nose"], landmarks[48:60]).any()
    assert not _inside(regions["nose"], landmarks[[36, 45]]).any()  # outer eye corners
    assert _inside(regions["upper"], eyes).all() and not _inside(regions["upper"], mouth).any()
    assert _inside(regions["lower"], mouth).all() and not _inside(regions["lower"], eyes).any()
    # Image left holds the subject's right eye (36–41).
    assert _inside(regions["left"], landmarks[36:42]).all()
    assert not _inside(regions["left"], landmarks[42:48]).any()
    assert _inside(regions["right"], landmarks[42:48]).all()
    assert not _inside(regions["right"], landmarks[36:42]).any()
    hull = masks.face_hull_mask(landmarks, 128) > 0
    for one, other in (("upper", "lower"), ("left", "right")):
      a, b = regions[one] > 0, regions[other] > 0
      assert not (a & b).any()
      np.testing.assert_array_equal(a | b, hull)
  with pytest.raises(ValueError, match="unknown region"):
    partial_faces.region_mask("ears", landmarks, (128, 128))


def test_partial_sets_of_the_tiny_corpus(tiny_builder):
  source = tiny_builder.as_data_source("test")
  table = pipeline.read_frame_table(source)
  selected = pipeline.select_frames(table, None)
  sets = partial_faces.build_partial_sets(tiny_builder, "test", source, selected, table)
  fakes = selected[table.label[selected] == 1]
  reals = selected[table.label[selected] == 0]
  assert sets.reals == len(reals) and sets.fakes["full"] == len(fakes)
  # `full` holds the stored fakes byte for byte: the pairs are the corpus's own frames.
  stored = [source.data_source[int(r)] for r in fakes]
  full = [record["image"] for record in sets.sources["full"] if record["label"] == 1]
  for raw, image in zip(stored, full):
    assert image in raw
  # Mouth re-enactments leave the eyes and the upper face alone: those partial fakes are left out.
  mouth_fakes = sum(table.method_names[table.method[r]] == "reenact_mouth" for r in fakes)
  assert mouth_fakes > 0 and sets.skipped["eyes_unchanged"] == mouth_fakes
  for region in partial_faces.REGIONS:
    records = sets.sources[region]
    assert sum(r["label"] for r in records) == sets.fakes[region] > 0
    assert sum(1 - r["label"] for r in records) == len(reals)


def test_an_unpaired_corpus_is_refused():
  class Info:
    name = "celeb_df"

  class Builder:
    info = Info()

  with pytest.raises(partial_faces.UnpairedCorpusError, match="aligned real frames"):
    partial_faces.paired_videos(Builder(), "test", ["a"])


@pytest.fixture(scope="module")
def trained_run(tiny_corpus, tmp_path_factory):
  """A tiny Meso-4 trained one epoch with the forgery-face augmentation and JPEG augmentation."""
  spec, data_dir, overrides = tiny_corpus
  config = default.get_config()
  config.dataset, config.data_dir, config.corpus_overrides = spec, data_dir, overrides
  config.image_size, config.batch_size, config.eval_batch_size = 32, 4, 4
  config.frames_per_video, config.eval_frames_per_video = 0, 0
  config.epochs, config.progress = 1, False
  config.augment, config.forgery_augmentation = "jpeg", True
  workdir = tmp_path_factory.mktemp("robust_run")
  result = trainer.train_and_evaluate(config, workdir, devices=DEVICES)
  assert np.isfinite(result["history"][0]["train/loss"])
  return workdir


def test_robustness_run_end_to_end(trained_run, tmp_path):
  config = robustness_config.get_config()
  config.batch_size, config.frames_per_video, config.progress = 4, 0, False
  config.output_dir = str(tmp_path)
  config.strengths.update(
    dict(jpeg=(100, 60), blur=(0.0, 0.5), noise=(0.0, 10.0), resize=(1.0, 0.25), video=(5, 30))
  )
  result = robustness.evaluate_robustness(config, trained_run, devices=DEVICES)
  name = "synthetic_faces/studio:test"
  corpus = result["corpora"][name]
  clean = corpus["clean"]
  assert clean["frames"] == 18 and clean["fake_frames"] == 12 and 0 <= clean["auc"] <= 1
  assert set(corpus["transforms"]) == set(robustness.TRANSFORMS) and not corpus["skipped"]
  for transform, rows in corpus["transforms"].items():
    assert [row["strength"] for row in rows] == list(config.strengths[transform])
    assert all(row["frames"] == 18 and 0 <= row["auc"] <= 1 for row in rows)
  # Identity strengths score exactly the clean frames.
  assert corpus["transforms"]["blur"][0]["auc"] == clean["auc"]
  assert corpus["transforms"]["noise"][0]["auc"] == clean["auc"]
  assert corpus["transforms"]["resize"][0]["auc"] == clean["auc"]
  partial = corpus["partial"]
  assert set(partial["auc"]) == {"full", *partial_faces.REGIONS}
  assert partial["auc"]["full"] == pytest.approx(clean["auc"], abs=1e-6)  # the same images
  saved = json.loads((tmp_path / "robustness.json").read_text())
  assert saved["corpora"][name]["transforms"]["jpeg"][1]["strength"] == 60
  table = (tmp_path / "robustness.md").read_text()
  assert "## jpeg: frame AUC against JPEG quality" in table and "| eyes |" in table
  for picture in (
    "robustness_synthetic_faces_studio_test.png",
    "partial_faces_synthetic_faces_studio_test.png",
  ):
    assert (tmp_path / picture).read_bytes()[:4] == b"\x89PNG"
  with pytest.raises(ValueError, match="unknown transform"):
    config.transforms = "jpeg,sharpen"
    robustness.evaluate_robustness(config, trained_run, devices=DEVICES)
