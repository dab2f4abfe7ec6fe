"""The synthetic corpus's forgeries: masks (ADD face hull, BiG-Arts M_in / M_ex), blending,
re-synthesis artifacts, recipes."""

import dataclasses

import cv2
import numpy as np
import pytest

from fakenas_jax.data import synthetic
from fakenas_jax.data.synthetic import forgeries

RESOLUTIONS = (32, 64, 128)
# (recipe, method): every method, with each blending the recipes use.
CASES = [("studio", method) for method in synthetic.RECIPES["studio"].methods] + [
  ("celeb", "swap_bilinear"),
  ("wild", "swap_nearest"),
  ("wild", "swap_checkerboard"),
  ("graphics", "graphics_swap"),
  ("graphics", "synthetic_face"),
]


def _pair(recipe, method, seed=(1, 2), target=3, source=4, frames=3, resolution=64):
  """A forged video and the real video it was forged from (same seed and target)."""
  if isinstance(recipe, str):
    recipe = synthetic.RECIPES[recipe]
  args = dict(seed=seed, target_identity=target, num_frames=frames, resolution=resolution)
  fake = synthetic.generate_video(recipe, source_identity=source, method=method, **args)
  real = synthetic.generate_video(recipe, method="real", **args)
  return fake, real


def _variant(recipe="studio", **changes):
  return dataclasses.replace(synthetic.RECIPES[recipe], **changes)


def _changed(fake_frame, real_frame):
  return forgeries.changed_pixels(real_frame.image, fake_frame.image)


def test_contract_constants():
  assert synthetic.METHODS == (
    "swap_nearest",
    "swap_bilinear",
    "swap_checkerboard",
    "reenact_mouth",
    "graphics_swap",
    "synthetic_face",
  )
  assert {"studio", "celeb", "wild", "graphics"} <= set(synthetic.RECIPES)
  covered = set()
  for recipe in synthetic.RECIPES.values():
    hash(recipe)
    with pytest.raises(dataclasses.FrozenInstanceError):
      recipe.style = "other"
    assert set(recipe.methods) <= set(synthetic.METHODS)
    assert set(recipe.blendings) <= {"hard", "feather", "poisson"}
    assert all(isinstance(q, int) and 0 <= q <= 100 for q in recipe.jpeg_qualities)
    assert isinstance(recipe.description, str) and recipe.description
    covered |= set(recipe.methods)
  assert covered == set(synthetic.METHODS)
  # The corpora differ in how they are made, not only in name.
  assert len({(r.style, r.methods, r.jpeg_qualities) for r in synthetic.RECIPES.values()}) == len(
    synthetic.RECIPES
  )


@pytest.mark.parametrize("resolution", RESOLUTIONS)
@pytest.mark.parametrize("recipe,method", CASES)
def test_forgery_masks(recipe, method, resolution):
  fake, real = _pair(recipe, method, resolution=resolution)
  assert fake.method == method and len(fake.frames) == 3
  assert fake.quality in synthetic.RECIPES[recipe].jpeg_qualities
  radius = forgeries.boundary_radius(resolution)
  for frame, pristine in zip(fake.frames, real.frames):
    intrinsic, extrinsic = frame.intrinsic > 0, frame.extrinsic > 0
    for mask in (frame.intrinsic, frame.extrinsic):
      assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    assert intrinsic.any()
    # M_ex = D(M_in) - E(M_in): a band around the manipulated region.
    assert not (extrinsic & ~(forgeries.dilate(frame.intrinsic, radius) > 0)).any()
    assert not (extrinsic & (forgeries.erode(frame.intrinsic, radius) > 0)).any()
    points = np.round(frame.landmarks).astype(int)
    assert (points >= 0).all() and (points < resolution).all()
    assert (frame.face_hull[points[:, 1], points[:, 0]] == 255).all()
    if method == "synthetic_face":
      assert intrinsic.all() and not extrinsic.any()
      continue
    assert extrinsic.any()
    # Exactly the documented band: elliptic (2r+1)-kernel, the image border is no boundary.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    band = cv2.dilate(frame.intrinsic, kernel) - cv2.erode(
      frame.intrinsic, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=255
    )
    np.testing.assert_array_equal(frame.extrinsic, band)
    assert extrinsic.sum() < intrinsic.sum() + 4 * radius * np.sqrt(intrinsic.sum()) * 4
    # Blended forgeries leave everything outside the manipulated region untouched.
    outside = ~(forgeries.dilate(frame.intrinsic, radius) > 0)
    np.testing.assert_array_equal(frame.image[outside], pristine.image[outside])
    np.testing.assert_array_equal(frame.image[~intrinsic], pristine.image[~intrinsic])
    # ... and M_in is the convex hull of what changed (BiG-Arts: Convex(|x' - x| > gamma)).
    changed = cv2.findNonZero(_changed(frame, pristine).astype(np.uint8)).reshape(-1, 2)
    np.testing.assert_array_equal(frame.intrinsic, forgeries.convex_hull_mask(changed, resolution))


@pytest.mark.parametrize("method", ["swap_bilinear", "graphics_swap", "reenact_mouth"])
def test_manipulation_stays_in_the_face(method):
  """Hard and Poisson blending change only pixels inside the face hull (ADD's region)."""
  for blending in ("hard", "poisson"):
    recipe = _variant("studio", blendings=(blending,))
    fake, real = _pair(recipe, method, resolution=64)
    for frame, pristine in zip(fake.frames, real.frames):
      assert not (_changed(frame, pristine) & (frame.face_hull == 0)).any()
      assert not ((frame.intrinsic > 0) & (frame.face_hull == 0)).any()


def test_mouth_reenactment_only_touches_the_mouth():
  fake, real = _pair(_variant(blendings=("hard",)), "reenact_mouth", resolution=128)
  for frame, pristine in zip(fake.frames, real.frames):
    mouth_top = frame.landmarks[48:68, 1].min()
    eyes_bottom = frame.landmarks[36:48, 1].max()
    rows = np.flatnonzero(frame.intrinsic.any(axis=1))
    assert rows.min() > eyes_bottom and rows.min() > mouth_top - 0.2 * 128
    assert (frame.intrinsic > 0).mean() < 0.1
    np.testing.assert_array_equal(frame.landmarks[:48], pristine.landmarks[:48])
  assert any(
    not np.allclose(f.landmarks[48:], p.landmarks[48:]) for f, p in zip(fake.frames, real.frames)
  ), "the driver moves the mouth"


def test_blendings_shape_the_boundary():
  """Hard pasting changes only the eroded face hull; feathering leaks a soft tail past it."""
  results = {}
  for blending in ("hard", "feather", "poisson"):
    recipe = _variant(blendings=(blending,), synthesis_factors=(2,))
    fake, real = _pair(recipe, "swap_bilinear", resolution=128)
    assert fake.blending == blending
    erosion = max(1, round(recipe.mask_erosion * 128))
    outside_mask = [
      (_changed(f, p) & (forgeries.swap_mask(f.landmarks, 128, erosion) == 0)).sum()
      for f, p in zip(fake.frames, real.frames)
    ]
    results[blending] = sum(outside_mask)
  assert results["hard"] == 0 and results["poisson"] == 0
  assert results["feather"] > 0


def _hull_colour_gap(fake, real):
  gaps = []
  for frame, pristine in zip(fake.frames, real.frames):
    inside = frame.intrinsic > 0
    gaps.append(np.abs(frame.image[inside].mean(0) - pristine.image[inside].mean(0)).mean())
  return np.mean(gaps)


def test_colour_correction_removes_the_colour_mismatch():
  # A light-skinned target and a dark-skinned source.
  skin = lambda i: np.mean(synthetic.make_identity("studio", i).skin)
  light = max(range(20), key=skin)
  dark = min(range(20), key=skin)
  gaps = {}
  for correction in (0.0, 1.0):
    recipe = _variant(blendings=("hard",), colour_correction=correction)
    fake, real = _pair(recipe, "swap_bilinear", target=light, source=dark)
    assert fake.colour_corrected == bool(correction)
    gaps[correction] = _hull_colour_gap(fake, real)
  assert gaps[0.0] > 20
  assert gaps[1.0] < 0.3 * gaps[0.0]


def _nyquist_energy(image):
  """Energy at the highest horizontal and vertical frequencies, relative to the mean energy."""
  grey = image.astype(np.float64).mean(axis=2) if image.ndim == 3 else image.astype(np.float64)
  spectrum = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
  n = grey.shape[0] // 2
  return (spectrum[n, :].sum() + spectrum[:, n].sum()) / spectrum.sum()


def test_checkerboard_upsampler_leaves_a_period_two_pattern():
  rng = np.random.default_rng(0)
  low = cv2.GaussianBlur(rng.uniform(0, 255, (32, 32, 3)).astype(np.float32), (0, 0), 1.0)
  checkerboard = forgeries.upsample_checkerboard(low, 2)
  bilinear = cv2.resize(low, (64, 64), interpolation=cv2.INTER_LINEAR)
  assert checkerboard.shape == bilinear.shape == (64, 64, 3)
  assert _nyquist_energy(checkerboard) > 20 * _nyquist_energy(bilinear)
  # The kernel's uneven overlap is the cause: without it, a flat image stays flat.
  flat = np.full((8, 8, 1), 100.0, np.float32)
  np.testing.assert_allclose(
    forgeries.upsample_checkerboard(flat, 3, strength=0.0), 100.0, rtol=1e-5
  )
  patterned = forgeries.upsample_checkerboard(flat, 3)[..., 0]
  assert np.ptp(patterned) > 5
  np.testing.assert_allclose(patterned, np.roll(patterned, 3, axis=0), rtol=1e-5)
  np.testing.assert_allclose(patterned.mean(), 100.0, rtol=1e-3)
  for factor in (2, 3, 4):
    taps = forgeries.checkerboard_kernel(factor)
    gains = [taps[phase::factor].sum() for phase in range(factor)]
    assert np.isclose(np.mean(gains), 1.0) and np.ptp(gains) > 0.05


def test_resynthesis_removes_fine_detail():
  rng = np.random.default_rng(1)
  image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
  high_pass = lambda x: np.abs(
    x.astype(np.float32) - cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.0)
  ).mean()
  for upsampler in forgeries.UPSAMPLERS:
    for factor in (2, 3, 4):
      out = forgeries.resynthesize(image, factor, upsampler)
      assert out.shape == image.shape and out.dtype == np.uint8
      assert high_pass(out) < 0.7 * high_pass(image)
  blocky = forgeries.resynthesize(image, 4, "nearest")
  assert (blocky[:, 1:4] == blocky[:, 0:1]).all(), "nearest up-sampling repeats pixels"


def test_fractional_resynthesis_factor():
  """A generator nearly at the frame's resolution (Celeb-DF-like) loses less than factor 2."""
  rng = np.random.default_rng(2)
  image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (0, 0), 0.7)
  error = {
    f: np.abs(forgeries.resynthesize(image, f, "bilinear").astype(np.float32) - image).mean()
    for f in (1.5, 2, 3)
  }
  assert 0 < error[1.5] < error[2] < error[3], error
  assert forgeries.resynthesize(image, 1.5, "bilinear").shape == image.shape
  with pytest.raises(ValueError, match="bilinear"):
    forgeries.resynthesize(image, 1.5, "nearest")
  with pytest.raises(ValueError, match="> 1"):
    forgeries.resynthesize(image, 1, "bilinear")
  celeb = synthetic.RECIPES["celeb"]
  assert synthetic.generate_video(celeb, (3,), 1, 2, "swap_bilinear", 1, 32).synthesis_factor in (
    celeb.synthesis_factors
  )


def test_graphics_swap_texture_resolution():
  """With texture_factor 2 the swapped face loses its fine detail; the rest of the frame and
  the region replaced stay those of a full-resolution texture (texture_factor 0)."""
  high_pass = lambda x: np.abs(x - cv2.GaussianBlur(x, (0, 0), 1.0))
  fakes = {}
  for factor in (0, 2):
    recipe = _variant("graphics", methods=("graphics_swap",), texture_factor=factor)
    fakes[factor], _ = _pair(recipe, "graphics_swap", resolution=128, frames=2)
    assert fakes[factor].synthesis_factor == factor
  inside = forgeries.erode(fakes[0].frames[0].intrinsic, 4) > 0
  detail = {
    factor: np.mean([high_pass(f.image.astype(np.float32))[inside].mean() for f in fake.frames])
    for factor, fake in fakes.items()
  }
  assert detail[2] < 0.8 * detail[0], detail
  for low, full in zip(fakes[2].frames, fakes[0].frames):
    assert (low.intrinsic != full.intrinsic).mean() < 0.02
    outside = (low.intrinsic == 0) & (full.intrinsic == 0)
    np.testing.assert_array_equal(low.image[outside], full.image[outside])


def test_swap_checkerboard_frames_carry_the_pattern():
  """End to end: the swapped face shows more period-2 energy than a bilinear swap."""
  recipe = _variant(synthesis_factors=(2,), blendings=("hard",))
  energy = {}
  for method in ("swap_checkerboard", "swap_bilinear"):
    fake, _ = _pair(recipe, method, resolution=128)
    crops = []
    for frame in fake.frames:
      ys, xs = np.nonzero(forgeries.erode(frame.intrinsic, 4))
      y0, x0 = ys.min() + (ys.min() % 2), xs.min() + (xs.min() % 2)
      crops.append(_nyquist_energy(frame.image[y0 : y0 + 32, x0 : x0 + 32]))
    energy[method] = np.mean(crops)
  assert energy["swap_checkerboard"] > 5 * energy["swap_bilinear"]


def test_synthetic_faces_carry_a_generator_fingerprint():
  fake, real = _pair("graphics", "synthetic_face", resolution=64, frames=4)
  quarter = lambda image: np.abs(np.fft.fft2(image.astype(np.float64).mean(axis=2)))[16, 16]
  fingerprint = np.mean([quarter(f.image) for f in fake.frames])
  natural = np.mean([quarter(f.image) for f in real.frames])
  assert fingerprint > 5 * natural
  assert np.mean([_nyquist_energy(f.image) for f in fake.frames]) > 3 * np.mean(
    [_nyquist_energy(f.image) for f in real.frames]
  )
  assert fake.blending == "none"


def test_swaps_show_the_source_person():
  """The swapped face looks more like the source's own face than like the target's."""
  recipe = _variant(blendings=("hard",), synthesis_factors=(2,))
  fake, target = _pair(recipe, "swap_bilinear", target=1, source=2)
  source = synthetic.generate_video(
    recipe, seed=(1, 2), target_identity=2, method="real", num_frames=3, resolution=64
  )
  for f, t, s in zip(fake.frames, target.frames, source.frames):
    inside = forgeries.erode(f.intrinsic, 3) > 0
    colour = lambda frame: np.median(frame.image[inside].astype(np.float32), axis=0)
    assert np.linalg.norm(colour(f) - colour(s)) < np.linalg.norm(colour(f) - colour(t))


def test_fake_videos_record_how_they_were_made():
  recipe = synthetic.RECIPES["studio"]
  blendings, factors = set(), set()
  for k in range(12):
    video = synthetic.generate_video(recipe, (7, k), 1, 2, "swap_nearest", 1, 32)
    blendings.add(video.blending)
    factors.add(video.synthesis_factor)
  assert blendings == set(recipe.blendings)
  assert factors == set(recipe.synthesis_factors)
  graphics = synthetic.generate_video(recipe, (7,), 1, 2, "graphics_swap", 1, 32)
  assert graphics.blending == "poisson" and graphics.colour_corrected


def test_invalid_requests_are_refused():
  studio = synthetic.RECIPES["studio"]
  with pytest.raises(ValueError, match="synthetic_face"):
    synthetic.generate_video(studio, (0,), 1, 2, "synthetic_face")
  with pytest.raises(ValueError, match="source"):
    synthetic.generate_video(studio, (0,), 1, None, "swap_bilinear")
  with pytest.raises(ValueError, match="source"):
    synthetic.generate_video(studio, (0,), 1, 1, "graphics_swap")
  with pytest.raises(ValueError, match="seed"):
    synthetic.generate_video(studio, (-1,), 1)
  with pytest.raises(ValueError, match="resolution"):
    synthetic.generate_video(studio, (0,), 1, resolution=16)
  with pytest.raises(ValueError, match="methods"):
    _variant(methods=("morph",))
  with pytest.raises(ValueError, match="blendings"):
    _variant(blendings=("alpha",))
  with pytest.raises(ValueError, match="style"):
    _variant(style="cartoon")
  with pytest.raises(ValueError, match="jpeg"):
    _variant(jpeg_qualities=(120,))
  with pytest.raises(ValueError, match="texture_factor"):
    _variant(texture_factor=1)
  with pytest.raises(ValueError, match="synthesis_factors"):
    _variant(synthesis_factors=(1,))
  with pytest.raises(ValueError, match="fractional"):
    _variant(synthesis_factors=(1.5,))  # studio has nearest and checkerboard swaps
