"""The synthetic corpus's renderer: landmarks, identities, styles, determinism, encoding."""

import dataclasses

import cv2
import numpy as np
import pytest

from fakenas_jax.data import synthetic
from fakenas_jax.data.synthetic import landmarks

RECIPE_NAMES = ("studio", "celeb", "wild", "graphics")


def _real(recipe="studio", seed=(0, 0), identity=0, frames=4, resolution=64):
  return synthetic.generate_video(
    synthetic.RECIPES[recipe],
    seed=seed,
    target_identity=identity,
    method="real",
    num_frames=frames,
    resolution=resolution,
  )


def _is_digitally_convex(mask):
  """Every row and every column of the mask is one contiguous run (or empty)."""
  for lines in (mask > 0, (mask > 0).T):
    for line in lines:
      filled = np.flatnonzero(line)
      if len(filled) and filled[-1] - filled[0] + 1 != len(filled):
        return False
  return True


def test_canonical_landmarks_follow_the_dlib_layout():
  points = landmarks.canonical_landmarks(landmarks.FaceShape(), landmarks.Expression())
  x, y = points[:, 0], points[:, 1]
  assert points.shape == (68, 3)
  assert np.all(np.diff(x[0:17]) > 0), "jaw runs from image left to image right"
  assert np.argmax(y[0:17]) == 8, "point 8 is the chin"
  assert x[21] < x[22] and x[17] < x[21] and x[22] < x[26], "brows: left, then right"
  assert np.all(np.diff(y[27:31]) > 0), "nose bridge runs down to the tip"
  assert np.all(np.diff(x[31:36]) > 0)
  assert x[36] < x[39] < x[42] < x[45], "eye corners left to right"
  assert y[37] < y[41] and y[43] < y[47], "upper lids above lower lids"
  assert x[48] == x[48:60].min() and x[54] == x[48:60].max(), "mouth corners 48 and 54"
  assert y[51] < y[62] <= y[66] < y[57], "outer lip encloses the inner lip"
  assert y[19] < y[37] < y[30] < y[51] < y[8], "brows, eyes, nose, mouth, chin top to bottom"


def test_expression_and_pose_move_the_right_landmarks():
  shape = landmarks.FaceShape()
  neutral = landmarks.canonical_landmarks(shape, landmarks.Expression())
  talking = landmarks.canonical_landmarks(shape, landmarks.Expression(mouth_open=1, jaw_drop=1))
  blinking = landmarks.canonical_landmarks(shape, landmarks.Expression(blink_left=1))
  raised = landmarks.canonical_landmarks(shape, landmarks.Expression(brow_raise=1))
  assert talking[66, 1] - talking[62, 1] > neutral[66, 1] - neutral[62, 1] + 0.2
  assert talking[8, 1] > neutral[8, 1], "the chin drops with the jaw"
  np.testing.assert_allclose(talking[17:48], neutral[17:48])
  np.testing.assert_allclose(blinking[37, 1], blinking[41, 1], atol=1e-9)
  np.testing.assert_allclose(blinking[43:48], neutral[43:48])
  assert np.all(raised[17:27, 1] < neutral[17:27, 1] - 0.03)

  frontal = landmarks.Pose(center_x=32, center_y=30, scale=16)
  turned = dataclasses.replace(frontal, yaw=0.4)
  a = landmarks.landmark_positions(shape, landmarks.Expression(), frontal)
  b = landmarks.landmark_positions(shape, landmarks.Expression(), turned)
  jaw_width = lambda p: p[16, 0] - p[0, 0]
  assert jaw_width(b) < jaw_width(a), "yaw compresses the outline"
  assert b[30, 0] - (b[0, 0] + b[16, 0]) / 2 > 0.2 * 16, "the nose tip turns with the face"


@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_real_videos_have_no_forgery_masks(recipe):
  video = _real(recipe, frames=3)
  assert (video.method, video.blending) == ("real", "none")
  assert video.quality in synthetic.RECIPES[recipe].jpeg_qualities
  assert len(video.frames) == 3
  for frame in video.frames:
    assert frame.image.shape == (64, 64, 3) and frame.image.dtype == np.uint8
    assert frame.landmarks.shape == (68, 2) and frame.landmarks.dtype == np.float32
    assert not frame.intrinsic.any() and not frame.extrinsic.any()
    assert frame.intrinsic.shape == frame.extrinsic.shape == (64, 64)


@pytest.mark.parametrize("resolution", [32, 64, 128])
@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_face_hull_covers_the_landmarks_inside_the_image(recipe, resolution):
  for seed in range(3):
    for frame in _real(recipe, seed=(seed,), identity=seed, frames=3, resolution=resolution).frames:
      points = np.round(frame.landmarks).astype(int)
      assert (points >= 0).all() and (points < resolution).all()
      hull = frame.face_hull
      assert hull.dtype == np.uint8 and set(np.unique(hull)) == {0, 255}
      assert (hull[points[:, 1], points[:, 0]] == 255).all()
      assert _is_digitally_convex(hull)
      # The hull is the face: it spans the jaw and brows, and not the whole image.
      assert 0.1 < (hull > 0).mean() < 0.6


def test_landmarks_are_where_the_features_are_drawn():
  """Lips drawn at 48-59 are redder than the skin at the cheeks; eyes darker or lighter."""
  for frame in _real("studio", seed=(3,), identity=3, frames=2, resolution=128).frames:
    image = frame.image.astype(np.float32)
    mouth = np.zeros((128, 128), np.uint8)
    cv2.fillPoly(mouth, [np.round(frame.landmarks[48:60]).astype(np.int32)], 255)
    cheeks = np.round(0.5 * (frame.landmarks[[2, 14]] + frame.landmarks[[31, 35]])).astype(int)
    redness = lambda pixels: (pixels[..., 0] - pixels[..., 1]).mean()
    assert redness(image[mouth > 0]) > redness(image[cheeks[:, 1], cheeks[:, 0]]) + 10


def test_same_arguments_give_identical_bytes_in_any_order():
  recipe = synthetic.RECIPES["wild"]
  args = dict(seed=(4, 2), target_identity=5, source_identity=6, num_frames=3, resolution=64)
  first = synthetic.generate_video(recipe, method="swap_checkerboard", **args)
  synthetic.generate_video(recipe, method="real", **args)
  synthetic.make_identity.cache_clear()
  synthetic.generate_video(recipe, seed=(9,), target_identity=6, method="real", num_frames=2)
  second = synthetic.generate_video(recipe, method="swap_checkerboard", **args)
  assert first.quality == second.quality
  for a, b in zip(first.frames, second.frames):
    assert synthetic.encode_frame(a.image, first.quality) == synthetic.encode_frame(
      b.image, second.quality
    )
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.intrinsic, b.intrinsic)
  other = synthetic.generate_video(recipe, method="swap_checkerboard", **{**args, "seed": (4, 3)})
  assert not np.array_equal(first.frames[0].image, other.frames[0].image)


def test_identity_depends_only_on_style_and_index():
  synthetic.make_identity.cache_clear()
  later = [synthetic.make_identity("studio", i) for i in (7, 3)]
  synthetic.make_identity.cache_clear()
  earlier = [synthetic.make_identity("studio", i) for i in (3, 7)][::-1]
  for a, b in zip(later, earlier):
    assert a.shape == b.shape and a.skin == b.skin and a.hair == b.hair
    np.testing.assert_array_equal(a.detail, b.detail)
  assert synthetic.make_identity("celeb", 3).skin != synthetic.make_identity("studio", 3).skin


def test_different_identities_look_different():
  """Same seed (scene, motion, noise), different people: the faces differ clearly."""
  for recipe in RECIPE_NAMES:
    a = _real(recipe, seed=(1,), identity=0, frames=2).frames
    b = _real(recipe, seed=(1,), identity=1, frames=2).frames
    for fa, fb in zip(a, b):
      face = (fa.face_hull > 0) | (fb.face_hull > 0)
      difference = np.abs(fa.image.astype(np.float32) - fb.image)[face].mean()
      assert difference > 8, (recipe, difference)


def _skin_colour(frame):
  """Median colour of the cheeks: the face hull minus eyes, brows, nose and mouth."""
  skin = frame.face_hull.copy()
  for part in (
    slice(17, 22),
    slice(22, 27),
    slice(36, 42),
    slice(42, 48),
    slice(27, 36),
    slice(48, 60),
  ):
    hull = cv2.convexHull(np.round(frame.landmarks[part]).astype(np.int32))
    cv2.fillConvexPoly(skin, hull, 0)
    cv2.polylines(skin, [hull], True, 0, 3)
  return np.median(frame.image[skin > 0].astype(np.float32), axis=0)


def test_an_identity_looks_the_same_across_its_videos():
  """Skin colour of one person in two videos is closer than that of two different people."""
  people = range(8)
  colour = {
    (i, v): _skin_colour(_real("studio", seed=(20 + v, i), identity=i, frames=1).frames[0])
    for i in people
    for v in range(2)
  }
  same = [np.linalg.norm(colour[i, 0] - colour[i, 1]) for i in people]
  different = [
    np.linalg.norm(colour[i, 0] - colour[j, 1]) for i in people for j in people if i != j
  ]
  assert np.median(same) < 15
  assert np.median(same) < 0.35 * np.median(different)


def test_videos_move_smoothly():
  video = _real("celeb", seed=(5,), identity=2, frames=8, resolution=64)
  points = np.stack([frame.landmarks for frame in video.frames])
  steps = np.linalg.norm(np.diff(points, axis=0), axis=2)
  assert steps.max() < 0.12 * 64, "no jumps between frames"
  assert steps[:, 27:36].mean() > 0.05, "the head moves"
  mouth = points[:, 66, 1] - points[:, 62, 1]
  assert mouth.max() - mouth.min() > 0.5, "the mouth moves (talking)"


def _noise_level(image):
  grey = image.astype(np.float32).mean(axis=2)
  return np.median(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.0)))


def test_corpora_look_different():
  """Styles differ: the wild corpus is noisier than celeb; backgrounds differ in colour."""
  frames = {
    name: [
      _real(name, seed=(30, k), identity=k, frames=1, resolution=64).frames[0] for k in range(6)
    ]
    for name in RECIPE_NAMES
  }
  noise = {name: np.median([_noise_level(f.image) for f in fs]) for name, fs in frames.items()}
  assert noise["wild"] > 1.3 * noise["celeb"]
  assert noise["wild"] > 1.3 * noise["studio"]
  corner = {
    name: np.mean([f.image[:8, :8].reshape(-1, 3).mean(0) for f in fs], axis=0)
    for name, fs in frames.items()
  }
  assert corner["studio"][2] > corner["studio"][0], "blue studio backdrops"
  assert corner["celeb"][0] > corner["celeb"][2], "warm bokeh"


def test_lossless_quality_round_trips_exactly():
  frame = _real("wild", frames=1).frames[0]
  np.testing.assert_array_equal(
    synthetic.decode_frame(synthetic.encode_frame(frame.image, 0)), frame.image
  )
  mask = frame.face_hull[..., None]
  np.testing.assert_array_equal(
    synthetic.decode_frame(synthetic.encode_frame(mask, 0)), frame.face_hull
  )


def test_jpeg_encoding_is_rgb_and_follows_the_quality():
  image = _real("studio", frames=1, resolution=128).frames[0].image
  high, low = synthetic.encode_frame(image, 95), synthetic.encode_frame(image, 50)
  assert high[:2] == b"\xff\xd8" and synthetic.encode_frame(image, 0)[:4] == b"\x89PNG"
  assert len(low) < len(high)
  error = lambda data: np.abs(synthetic.decode_frame(data).astype(np.float32) - image).mean()
  assert error(high) < error(low) < 10
  red = np.zeros((16, 16, 3), np.uint8)
  red[..., 0] = 255
  assert synthetic.decode_frame(synthetic.encode_frame(red, 90))[..., 0].mean() > 240
  with pytest.raises(ValueError):
    synthetic.encode_frame(image, 101)
  with pytest.raises(ValueError):
    synthetic.encode_frame(image.astype(np.float32), 90)
