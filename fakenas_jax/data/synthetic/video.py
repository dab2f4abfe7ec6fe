"""`generate_video`: one real or forged synthetic video with exact landmarks and masks.

Everything is drawn from `np.random.default_rng(seed)`, split into independent streams (scene,
motion, sensor noise, compression, forgery), and from the identity indices, so the same arguments
give the same frames in any call order. A fake video is forged from the real video with the same
seed and target: its pristine frames are exactly that video's frames, which is how the intrinsic
mask M_in = Convex(|x' - x| > gamma) (BiG-Arts §3.1) is computed and what the tests check.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Sequence

import cv2
import numpy as np

from fakenas_jax.data.synthetic import forgeries as fg
from fakenas_jax.data.synthetic import landmarks as lm
from fakenas_jax.data.synthetic.identity import Identity, build_identity, make_identity
from fakenas_jax.data.synthetic.motion import FaceTrack, make_track, talking
from fakenas_jax.data.synthetic.recipes import SWAP_UPSAMPLERS, CorpusRecipe
from fakenas_jax.data.synthetic.render import Scene, make_scene, render_face
from fakenas_jax.data.synthetic.styles import STYLES

MAX_FORGERY_ATTEMPTS = 4
MIN_RESOLUTION = 32
SYNTHETIC_IDENTITY_BASE = 1 << 40  # synthetic_face identities: indices no corpus uses
SYNTHETIC_FACTOR = 2  # synthetic_face renders at half resolution
MOUTH_MARGIN = 0.1  # mouth re-enactment mask margin, face units


@dataclasses.dataclass(frozen=True, eq=False)
class Frame:
  """One frame, before compression, with its exact annotations."""

  image: np.ndarray  # uint8 (res, res, 3) RGB
  landmarks: np.ndarray  # float32 (68, 2) (x, y) pixels, dlib layout
  face_hull: np.ndarray  # uint8 {0, 255}: convex hull of the landmarks (ADD)
  intrinsic: np.ndarray  # uint8 {0, 255}: M_in (BiG-Arts); zero for real frames
  extrinsic: np.ndarray  # uint8 {0, 255}: M_ex = D(M_in) - E(M_in); zero for real frames


@dataclasses.dataclass(frozen=True, eq=False)
class Video:
  """A generated video and how it was made."""

  frames: list[Frame]
  quality: int  # JPEG quality every frame is to be encoded with; 0 = lossless (PNG)
  method: str  # 'real' or a forgery method
  blending: str  # 'none' for real videos and synthetic faces
  target_identity: int
  source_identity: int | None
  synthesis_factor: float  # re-synthesis down-sampling factor; 0 where none
  colour_corrected: bool


def encode_frame(image: np.ndarray, quality: int) -> bytes:
  """JPEG bytes at `quality` (1-100), or PNG bytes when quality == 0; deterministic.

  `image` is uint8 RGB (H, W, 3) or grey (H, W) / (H, W, 1).
  """
  if image.dtype != np.uint8:
    raise ValueError(f"image must be uint8, got {image.dtype}")
  if image.ndim == 3 and image.shape[2] == 1:
    image = image[..., 0]
  if image.ndim == 3 and image.shape[2] == 3:
    image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
  elif image.ndim != 2:
    raise ValueError(f"image must be (H, W), (H, W, 1) or (H, W, 3), got {image.shape}")
  if quality == 0:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 6])
  elif 1 <= quality <= 100:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
  else:
    raise ValueError(f"quality must be 0 (PNG) or 1-100 (JPEG), got {quality}")
  if not ok:
    raise RuntimeError("OpenCV could not encode the frame")
  return data.tobytes()


def decode_frame(data: bytes) -> np.ndarray:
  """The image `encode_frame` encoded: uint8 RGB (H, W, 3) or grey (H, W)."""
  image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
  if image is None:
    raise ValueError("not a PNG or JPEG image")
  return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


@dataclasses.dataclass(frozen=True, eq=False)
class _Shot:
  """The real video a forgery starts from."""

  recipe: CorpusRecipe
  resolution: int
  scene: Scene
  target: Identity
  track: FaceTrack
  geometries: list[lm.FaceGeometry]
  pristine: list[np.ndarray]


@dataclasses.dataclass(frozen=True, eq=False)
class _Forgery:
  frames: list[Frame]
  blending: str
  synthesis_factor: float
  colour_corrected: bool


def _frame(
  image: np.ndarray, landmarks: np.ndarray, intrinsic: np.ndarray, extrinsic: np.ndarray
) -> Frame:
  return Frame(
    image=image,
    landmarks=landmarks.astype(np.float32),
    face_hull=fg.face_hull_mask(landmarks, image.shape[0]),
    intrinsic=intrinsic,
    extrinsic=extrinsic,
  )


def _blended_frame(pristine: np.ndarray, blended: np.ndarray, landmarks: np.ndarray) -> Frame:
  forged, intrinsic, extrinsic = fg.finalize(pristine, blended)
  return _frame(forged, landmarks, intrinsic, extrinsic)


def _swapped_identity(shot: _Shot, source_identity: int) -> Identity:
  """The source person's inner face inside the target's head outline and hair."""
  source = make_identity(shot.recipe.style, source_identity)
  return dataclasses.replace(source, shape=source.shape.with_outline_of(shot.target.shape))


def _forge_swap(
  shot: _Shot, source_identity: int, rng: np.random.Generator, attempt: int, upsampler: str
) -> _Forgery:
  recipe, res = shot.recipe, shot.resolution
  source = _swapped_identity(shot, source_identity)
  factor = (
    rng.choice(recipe.synthesis_factors).item() if attempt == 0 else max(recipe.synthesis_factors)
  )
  blending = str(rng.choice(recipe.blendings)) if attempt == 0 else "hard"
  colour_correct = bool(rng.random() < recipe.colour_correction) and attempt == 0
  erosion = max(1, round(recipe.mask_erosion * res))
  sigma = fg.feather_sigma(res, recipe.feather)
  frames = []
  for expression, pose, pristine in zip(shot.track.expressions, shot.track.poses, shot.pristine):
    geometry = lm.face_geometry(source.shape, expression, pose)
    rendered = render_face(source, geometry, shot.scene, rng)
    mask = fg.swap_mask(geometry.landmarks, res, erosion)
    grain = None
    if recipe.regrain:
      grain = np.float32(recipe.regrain * shot.scene.noise) * rng.standard_normal(
        pristine.shape, dtype=np.float32
      )
    blended = fg.face_swap(
      pristine,
      rendered,
      mask,
      factor=factor,
      upsampler=upsampler,
      blending=blending,
      colour_correct=colour_correct,
      sigma=sigma,
      sharpen=recipe.sharpen,
      grain=grain,
    )
    frames.append(_blended_frame(pristine, blended, geometry.landmarks))
  return _Forgery(frames, blending, factor, colour_correct)


def _forge_mouth(
  shot: _Shot, source_identity: int, rng: np.random.Generator, attempt: int
) -> _Forgery:
  """Another person's talking drives the target's mouth; the jaw and the rest stay the target's.

  Only the driver's mouth motion matters; it is drawn from the forgery stream.
  """
  del source_identity
  recipe, res = shot.recipe, shot.resolution
  num_frames = len(shot.track)
  target_mouth = np.array([e.mouth_open for e in shot.track.expressions])
  if attempt == 0:
    driver_mouth = talking(rng, num_frames, rng.uniform(0.4, 0.9))
  else:  # As different from the target's mouth as possible.
    driver_mouth = np.where(target_mouth < 0.5, 1.0, 0.0)
  driver_smile = np.clip(rng.uniform(-0.5, 1.0) + 0.3 * rng.standard_normal(num_frames), -1, 1)
  factor = rng.choice(recipe.synthesis_factors).item()
  blending = str(rng.choice(recipe.blendings))
  sigma = fg.feather_sigma(res, recipe.feather)
  frames = []
  for t, (geometry, pristine) in enumerate(zip(shot.geometries, shot.pristine)):
    expression = dataclasses.replace(
      geometry.expression, mouth_open=float(driver_mouth[t]), smile=float(driver_smile[t])
    )
    reenacted = lm.face_geometry(shot.target.shape, expression, geometry.pose)
    rendered = render_face(shot.target, reenacted, shot.scene, rng)
    margin = max(1, round(MOUTH_MARGIN * geometry.pose.scale))
    mask = fg.mouth_mask([geometry.landmarks, reenacted.landmarks], res, margin)
    blended = fg.mouth_reenactment(
      pristine, rendered, mask, factor=factor, blending=blending, sigma=sigma
    )
    frames.append(_blended_frame(pristine, blended, reenacted.landmarks))
  return _Forgery(frames, blending, factor, False)


def _forge_graphics(
  shot: _Shot, source_identity: int, rng: np.random.Generator, attempt: int
) -> _Forgery:
  """FaceSwap-like: a flat-shaded model of the source face, its texture at
  1/`recipe.texture_factor` resolution, colour-corrected and Poisson-blended (pasted if that
  fails). No sensor noise: the face is rendered, not filmed."""
  del rng  # Deterministic given the shot.
  recipe, res = shot.recipe, shot.resolution
  source = _swapped_identity(shot, source_identity)
  erosion = max(1, round(recipe.mask_erosion * res))
  blending = "poisson" if attempt == 0 else "hard"
  frames = []
  for expression, pose, pristine in zip(shot.track.expressions, shot.track.poses, shot.pristine):
    geometry = lm.face_geometry(source.shape, expression, pose)
    rendered = render_face(source, geometry, shot.scene, None, flat=True)
    if recipe.texture_factor:
      rendered = fg.resynthesize(rendered, recipe.texture_factor, "bilinear")
    mask = fg.swap_mask(geometry.landmarks, res, erosion)
    blended = fg.graphics_face_swap(pristine, rendered, mask, blending)
    frames.append(_blended_frame(pristine, blended, geometry.landmarks))
  return _Forgery(frames, blending, recipe.texture_factor, True)


def _forge_synthetic(
  shot: _Shot, source_identity: int, rng: np.random.Generator, attempt: int
) -> _Forgery:
  """A new person in a new scene, generated at half resolution; nothing of the shot is kept."""
  del source_identity, attempt
  recipe, res = shot.recipe, shot.resolution
  style = STYLES[recipe.style]
  person = build_identity(recipe.style, SYNTHETIC_IDENTITY_BASE + int(rng.integers(1 << 40)))
  irises = (np.asarray(person.iris), np.asarray(person.iris))
  if rng.random() < 0.5:  # GAN faces often get mismatched eye colours.
    irises = (irises[0], np.clip(irises[1] * rng.uniform(0.6, 1.5, 3), 0, 1))
  factor = SYNTHETIC_FACTOR
  offset = fg.checkerboard_offset(factor)
  scene = make_scene(style, rng, math.ceil(res / factor))
  track = make_track(style, rng, len(shot.track), res, person.shape)
  whole = np.full((res, res), 255, np.uint8)
  frames = []
  for expression, pose in zip(track.expressions, track.poses):
    low = lm.face_geometry(person.shape, expression, pose.scaled(factor, offset))
    # A generator's output has no sensor noise: render clean, then up-sample.
    image = fg.synthetic_frame(
      render_face(person, low, scene, None, iris_colours=irises), factor, res, recipe.fingerprint
    )
    landmarks = lm.landmark_positions(person.shape, expression, pose)
    frames.append(_frame(image, landmarks, whole, fg.extrinsic_mask(whole)))
  return _Forgery(frames, "none", factor, False)


_FORGERS: dict[str, Callable[..., _Forgery]] = {
  **{
    method: functools.partial(_forge_swap, upsampler=upsampler)
    for method, upsampler in SWAP_UPSAMPLERS.items()
  },
  "reenact_mouth": _forge_mouth,
  "graphics_swap": _forge_graphics,
  "synthetic_face": _forge_synthetic,
}
_NEEDS_SOURCE = ("swap_nearest", "swap_bilinear", "swap_checkerboard", "graphics_swap")


def _seed_words(seed: int | Sequence[int]) -> list[int]:
  words = [seed] if isinstance(seed, (int, np.integer)) else list(seed)
  if not words or any(int(w) < 0 for w in words):
    raise ValueError(f"seed must be non-negative integers, got {seed!r}")
  return [int(w) for w in words]


def generate_video(
  recipe: CorpusRecipe,
  seed: int | Sequence[int],
  target_identity: int,
  source_identity: int | None = None,
  method: str = "real",
  num_frames: int = 8,
  resolution: int = 64,
) -> Video:
  """One video of `recipe`'s corpus: `target_identity` filmed, and forged unless method='real'.

  Face swaps (swap_*, graphics_swap) put `source_identity`'s face on the target; reenact_mouth
  drives the target's mouth by another talker; synthetic_face replaces the whole frame by a
  generated person (the identities then only seed the draw). Frames are not compressed: encode
  each with `encode_frame(frame.image, video.quality)`.
  """
  if method != "real" and method not in recipe.methods:
    raise ValueError(
      f"method {method!r} is not 'real' or one of this recipe's methods {recipe.methods}"
    )
  if method in _NEEDS_SOURCE and (source_identity is None or source_identity == target_identity):
    raise ValueError(
      f"{method} needs a source identity other than the target, got {source_identity}"
    )
  if num_frames < 1 or resolution < MIN_RESOLUTION:
    raise ValueError(
      f"need num_frames >= 1 and resolution >= {MIN_RESOLUTION}, got {num_frames}, {resolution}"
    )
  style = STYLES[recipe.style]
  scene_rng, motion_rng, noise_rng, quality_rng, forgery_rng = np.random.default_rng(
    _seed_words(seed)
  ).spawn(5)
  quality = int(quality_rng.choice(recipe.jpeg_qualities))
  target = make_identity(recipe.style, target_identity)
  scene = make_scene(style, scene_rng, resolution)
  track = make_track(style, motion_rng, num_frames, resolution, target.shape)
  geometries = [
    lm.face_geometry(target.shape, e, p) for e, p in zip(track.expressions, track.poses)
  ]
  pristine = [render_face(target, g, scene, noise_rng) for g in geometries]

  if method == "real":
    empty = np.zeros((resolution, resolution), np.uint8)
    frames = [_frame(image, g.landmarks, empty, empty) for image, g in zip(pristine, geometries)]
    return Video(frames, quality, "real", "none", target_identity, source_identity, 0, False)

  shot = _Shot(recipe, resolution, scene, target, track, geometries, pristine)
  for attempt, attempt_rng in enumerate(forgery_rng.spawn(MAX_FORGERY_ATTEMPTS)):
    forgery = _FORGERS[method](shot, source_identity, attempt_rng, attempt)
    if all(frame.intrinsic.any() for frame in forgery.frames):
      return Video(
        forgery.frames,
        quality,
        method,
        forgery.blending,
        target_identity,
        source_identity,
        forgery.synthesis_factor,
        forgery.colour_corrected,
      )
  raise RuntimeError(
    f"{method} left a frame unchanged in {MAX_FORGERY_ATTEMPTS} attempts "
    f"(seed={seed}, target={target_identity}, source={source_identity})"
  )
