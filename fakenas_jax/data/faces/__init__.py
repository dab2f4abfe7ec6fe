"""The offline face pipeline: real videos -> face-crop examples for the corpus builders.

    from fakenas_jax.data import faces
    video = faces.process_video("000_003.mp4", faces.FaceCropConfig(crop_size=64),
                                source_path="000.mp4")
    if video.skip_reason is None:
      for example in video.examples:
        data = faces.encode_png(example.image)

Modules, one concept each: `video_io` (frame sampling and decoding), `models` (the dlib
models of `face-recognition-models`, loaded lazily), `detection` (HOG face boxes, 68 landmarks),
`tracking` (gap filling and smoothing of boxes over time), `crop` (square crops with margin),
`artifacts` (BiG-Arts M_in / M_ex of real fakes), `config` (`FaceCropConfig`), `process`
(`process_video`), `png` (`encode_png`), `photos` and `dummy_videos` (real-face test videos).
"""

from fakenas_jax.data.faces.config import FaceCropConfig
from fakenas_jax.data.faces.models import FaceModelsMissingError
from fakenas_jax.data.faces.png import encode_png
from fakenas_jax.data.faces.process import FaceExample, ProcessedVideo, process_video
from fakenas_jax.data.faces.video_io import VideoReadError, sample_frame_indices

__all__ = [
  "FaceCropConfig",
  "FaceExample",
  "FaceModelsMissingError",
  "ProcessedVideo",
  "VideoReadError",
  "encode_png",
  "process_video",
  "sample_frame_indices",
]
