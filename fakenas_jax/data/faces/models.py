"""The offline face models: dlib's HOG frontal face detector and the 68-point shape predictor.

The predictor's weights ship in the registry package `face-recognition-models`; its directory
is found with `importlib.util.find_spec` (importing that package needs `pkg_resources`). Models
load lazily: the predictor once per process (dlib documents it as safe to share between
threads), the detector once per thread (dlib's object detectors are not).
"""

from __future__ import annotations

import importlib.util
import os
import threading

import dlib

MODELS_PACKAGE = "face_recognition_models"
MODELS_DISTRIBUTION = "face-recognition-models"
LANDMARKS_MODEL = "shape_predictor_68_face_landmarks.dat"
CNN_DETECTOR_MODEL = "mmod_human_face_detector.dat"

_lock = threading.Lock()
_predictor: dlib.shape_predictor | None = None
_per_thread = threading.local()


class FaceModelsMissingError(FileNotFoundError):
  """The face models are not installed where they are looked for."""


def models_directory() -> str:
  """The `models/` directory of `face-recognition-models`; a clear error when it is missing."""
  spec = importlib.util.find_spec(MODELS_PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    raise FaceModelsMissingError(
      f"The face landmark model needs the package {MODELS_DISTRIBUTION!r} (module "
      f"{MODELS_PACKAGE!r}), which is not installed; install the project's pinned "
      f"dependencies (requirements.lock)."
    )
  return os.path.join(next(iter(spec.submodule_search_locations)), "models")


def model_path(filename: str) -> str:
  """Path of one model file of `face-recognition-models`; a clear error when it is missing."""
  path = os.path.join(models_directory(), filename)
  if not os.path.isfile(path):
    raise FaceModelsMissingError(
      f"The model file {path} is missing: the package {MODELS_DISTRIBUTION!r} is installed "
      f"without it; reinstall {MODELS_DISTRIBUTION} (it ships {LANDMARKS_MODEL})."
    )
  return path


def landmark_predictor() -> dlib.shape_predictor:
  """The 68-point shape predictor (iBUG 300-W layout), loaded once per process."""
  global _predictor
  if _predictor is None:
    with _lock:
      if _predictor is None:
        _predictor = dlib.shape_predictor(model_path(LANDMARKS_MODEL))
  return _predictor


def face_detector() -> dlib.fhog_object_detector:
  """dlib's HOG frontal face detector (it ships inside dlib), one per thread."""
  detector = getattr(_per_thread, "detector", None)
  if detector is None:
    detector = dlib.get_frontal_face_detector()
    _per_thread.detector = detector
  return detector


def cnn_face_detector() -> dlib.cnn_face_detection_model_v1:
  """dlib's MMOD CNN face detector (weights of `face-recognition-models`), one per thread."""
  detector = getattr(_per_thread, "cnn_detector", None)
  if detector is None:
    detector = dlib.cnn_face_detection_model_v1(model_path(CNN_DETECTOR_MODEL))
    _per_thread.cnn_detector = detector
  return detector
