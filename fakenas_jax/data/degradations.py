"""Image and video degradations ("laundering" operations, BiG-Arts §5) and the JPEG augmentation.

Every function takes and returns uint8 RGB frames and is deterministic given its arguments (the
noise draws from the `np.random.Generator` it is given):

* `jpeg(image, quality)`: an OpenCV JPEG encode/decode round trip at `quality` (1-100);
* `gaussian_blur(image, sigma)`: a 3×3 Gaussian kernel N(0, sigma) (BiG-Arts: σ in [0, 0.5]);
  sigma = 0 returns the image unchanged;
* `gaussian_noise(image, sigma, rng)`: additive N(0, sigma) in grey levels (0-255 scale),
  rounded and clipped to [0, 255];
* `rescale(image, scale)`: down-scaling by `scale` in (0, 1] and back up to the original size,
  both with OpenCV's default bilinear interpolation (BiG-Arts: scale factors in [0.1, 1]);
* `h264(frames, crf)`: the frames of one video, in order, encoded as one H.264 clip (libx264,
  yuv420p, constant rate factor `crf`) and decoded back, through the ffmpeg binary that the
  `imageio-ffmpeg` package ships; frames with odd sides are edge-padded for the encoder and
  cropped back.

`random_jpeg` is the training augmentation of BiG-Arts §4.1 (JPEG at a quality drawn uniformly
from [75, 100]), with the signature of the pipeline's augmentation hook.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from collections.abc import Sequence

import cv2
import numpy as np

JPEG_AUGMENT_QUALITIES = (75, 100)  # BiG-Arts §4.1, inclusive
BLUR_KERNEL = 3  # BiG-Arts §5: a 3×3 Gaussian kernel
H264_FPS = 25


class VideoCodecUnavailable(RuntimeError):
  """No ffmpeg binary with libx264 is installed (it ships in the `imageio-ffmpeg` package)."""


def _check_image(image: np.ndarray) -> None:
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
    raise ValueError(f"expected a uint8 RGB image (H, W, 3), got {image.dtype} {image.shape}")


def jpeg_bytes(image: np.ndarray, quality: int) -> bytes:
  """The JPEG encoding of an RGB image at `quality` (1-100), with OpenCV."""
  _check_image(image)
  if not 1 <= int(quality) <= 100:
    raise ValueError(f"JPEG quality must be in [1, 100], got {quality}")
  ok, data = cv2.imencode(
    ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
  )
  if not ok:
    raise RuntimeError("OpenCV could not encode the image as JPEG")
  return data.tobytes()


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
  """JPEG compression at `quality`: encode, then decode (RGB uint8, same shape)."""
  data = jpeg_bytes(image, quality)
  return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
  """Blur with a 3×3 Gaussian kernel of standard deviation `sigma`; identity at sigma = 0."""
  _check_image(image)
  if sigma < 0:
    raise ValueError(f"sigma must be >= 0, got {sigma}")
  if sigma == 0:
    return image.copy()
  return cv2.GaussianBlur(
    image,
    (BLUR_KERNEL, BLUR_KERNEL),
    sigmaX=float(sigma),
    sigmaY=float(sigma),
    borderType=cv2.BORDER_REFLECT_101,
  )


def gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
  """Additive Gaussian noise N(0, sigma) in grey levels, rounded and clipped to uint8."""
  _check_image(image)
  if sigma < 0:
    raise ValueError(f"sigma must be >= 0, got {sigma}")
  if sigma == 0:
    return image.copy()
  noisy = image.astype(np.float32) + np.float32(sigma) * rng.standard_normal(
    image.shape, dtype=np.float32
  )
  return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def rescale(image: np.ndarray, scale: float) -> np.ndarray:
  """Down-scale by `scale` (0 < scale <= 1) and back to the original size, bilinear both ways."""
  _check_image(image)
  if not 0 < scale <= 1:
    raise ValueError(f"scale must be in (0, 1], got {scale}")
  height, width = image.shape[:2]
  small = (max(1, round(width * scale)), max(1, round(height * scale)))
  if small == (width, height):
    return image.copy()
  down = cv2.resize(image, small, interpolation=cv2.INTER_LINEAR)
  up = cv2.resize(down, (width, height), interpolation=cv2.INTER_LINEAR)
  return up if up.ndim == 3 else up[..., None]


@functools.lru_cache(maxsize=1)
def ffmpeg_executable() -> str:
  """The ffmpeg binary of the `imageio-ffmpeg` package; `VideoCodecUnavailable` without it."""
  try:
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
  except ImportError as error:
    raise VideoCodecUnavailable(
      "video re-encoding needs the imageio-ffmpeg package (it ships an ffmpeg binary with "
      "libx264): pip install -c requirements.lock imageio-ffmpeg"
    ) from error
  try:
    executable = imageio_ffmpeg.get_ffmpeg_exe()
  except RuntimeError as error:
    raise VideoCodecUnavailable(f"imageio-ffmpeg found no ffmpeg binary: {error}") from error
  encoders = subprocess.run(
    [executable, "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
  ).stdout
  if "libx264" not in encoders:
    raise VideoCodecUnavailable(f"the ffmpeg binary {executable} has no libx264 encoder")
  return executable


def h264(
  frames: Sequence[np.ndarray] | np.ndarray,
  crf: int,
  *,
  preset: str = "medium",
  fps: int = H264_FPS,
) -> np.ndarray:
  """One video's frames (N, H, W, 3) uint8 RGB → the same frames after H.264 at `crf` (0-51)."""
  frames = np.asarray(frames)
  if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or not len(frames):
    raise ValueError(
      f"expected uint8 frames (N, H, W, 3), N >= 1, got {frames.dtype} {frames.shape}"
    )
  if not 0 <= int(crf) <= 51:
    raise ValueError(f"CRF must be in [0, 51], got {crf}")
  executable = ffmpeg_executable()
  count, height, width = frames.shape[:3]
  padded = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
  padded_h, padded_w = padded.shape[1:3]
  with tempfile.TemporaryDirectory(prefix="fakenas_h264_") as directory:
    path = os.path.join(directory, "clip.mp4")
    encode = [
      executable,
      "-v",
      "error",
      "-nostdin",
      "-y",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      f"{padded_w}x{padded_h}",
      "-r",
      str(int(fps)),
      "-i",
      "-",
      "-c:v",
      "libx264",
      "-preset",
      preset,
      "-crf",
      str(int(crf)),
      "-pix_fmt",
      "yuv420p",
      "-threads",
      "1",
      path,
    ]
    result = subprocess.run(
      encode, input=np.ascontiguousarray(padded).tobytes(), capture_output=True, check=False
    )
    if result.returncode:
      raise RuntimeError(f"ffmpeg could not encode: {result.stderr.decode(errors='replace')}")
    decode = [
      executable,
      "-v",
      "error",
      "-nostdin",
      "-i",
      path,
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-",
    ]
    result = subprocess.run(decode, capture_output=True, check=False)
    if result.returncode:
      raise RuntimeError(f"ffmpeg could not decode: {result.stderr.decode(errors='replace')}")
  decoded = np.frombuffer(result.stdout, np.uint8)
  if decoded.size != padded.size:
    raise RuntimeError(
      f"ffmpeg returned {decoded.size // (padded_h * padded_w * 3)} frames of "
      f"{padded_w}x{padded_h}, expected {count}"
    )
  return decoded.reshape(padded.shape)[:, :height, :width].copy()


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
  """Peak signal-to-noise ratio in dB of uint8 images (inf when equal)."""
  error = np.mean((reference.astype(np.float64) - image.astype(np.float64)) ** 2)
  return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def random_jpeg(images: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
  """Augmentation hook: the image JPEG-compressed at a quality in [75, 100]; masks unchanged."""
  low, high = JPEG_AUGMENT_QUALITIES
  out = dict(images)
  out["image"] = jpeg(images["image"], int(rng.integers(low, high + 1)))
  return out
