"""The offline face pipeline on real photographs and real video files: sampling, detection,
landmarks, tracking, crops, masks (ADD face hull, BiG-Arts M_in / M_ex), robustness."""

import concurrent.futures
import importlib.util
import os

import cv2
import numpy as np
import pytest
from scipy import ndimage

from fakenas_jax.data import faces, masks
from fakenas_jax.data.faces import (
  artifacts,
  crop,
  detection,
  dummy_videos,
  models,
  photos,
  tracking,
  video_io,
)

SIZE = (160, 120)
FRAMES = 6
# 68-point layout: eyes 36-47, nose 27-35, mouth 48-67, jaw 0-16.
LEFT_EYE, RIGHT_EYE = slice(36, 42), slice(42, 48)
NOSE_TIP, MOUTH = slice(30, 36), slice(48, 68)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
  """A real video, a swap of it, a faceless and corrupt files, written once."""
  directory = tmp_path_factory.mktemp("videos")
  paths = {
    name: str(directory / name)
    for name in (
      "real.mp4",
      "fake.mp4",
      "real.avi",
      "faceless.mp4",
      "garbage.mp4",
      "truncated.mp4",
      "truncated.avi",
    )
  }
  dummy_videos.write_face_video(paths["real.mp4"], num_frames=FRAMES, size=SIZE, seed=3)
  dummy_videos.write_face_video(
    paths["real.avi"], num_frames=FRAMES, size=SIZE, seed=4, photo="grace_hopper"
  )
  dummy_videos.write_swapped_video(
    paths["fake.mp4"], paths["real.mp4"], seed=1, photo="grace_hopper"
  )
  dummy_videos.write_faceless_video(paths["faceless.mp4"], num_frames=FRAMES, size=SIZE)
  dummy_videos.write_corrupt_video(paths["garbage.mp4"])
  dummy_videos.write_corrupt_video(paths["truncated.mp4"], kind="truncated")
  dummy_videos.write_corrupt_video(paths["truncated.avi"], kind="truncated")
  return paths


# ---------------------------------------------------------------------------------------------
# Frame sampling and reading


def test_sample_frame_indices_even_and_reproducible():
  for count, num in [(300, 20), (10, 3), (7, 7), (5, 9), (1, 1), (0, 4), (101, 10)]:
    indices = faces.sample_frame_indices(count, num)
    if num >= count:
      np.testing.assert_array_equal(indices, np.arange(count))
      continue
    # Independently: the middle of each of `num` equal segments of [0, count).
    expected = np.floor((np.arange(num) + 0.5) * count / num).astype(np.int64)
    np.testing.assert_array_equal(indices, expected)
    gaps = np.diff(indices)
    assert gaps.min() >= 1 and gaps.max() - gaps.min() <= 1
    np.testing.assert_array_equal(indices, faces.sample_frame_indices(count, num))
  with pytest.raises(ValueError, match="num_frames"):
    faces.sample_frame_indices(10, 0)
  with pytest.raises(ValueError, match="frame_count"):
    faces.sample_frame_indices(-1, 3)


def test_read_frames_in_order_and_truncation(videos):
  decoded = video_io.read_frames(videos["real.avi"], [4, 1])
  assert decoded.frame_count == FRAMES and set(decoded.frames) == {1, 4}
  assert decoded.frames[1].shape == (SIZE[1], SIZE[0], 3)
  # The frames match the frames written (MJPG is lossy, but close).
  written = dummy_videos.face_video_frames(
    num_frames=FRAMES, size=SIZE, seed=4, photo="grace_hopper"
  )
  for index in (1, 4):
    assert np.abs(decoded.frames[index].astype(int) - written[index]).mean() < 6
  truncated = video_io.read_frames(videos["truncated.avi"], range(8))
  assert truncated.frames and truncated.failures
  last = max(truncated.frames)
  assert all(reason == f"truncated after frame {last}" for reason in truncated.failures.values())
  assert set(truncated.failures) == set(range(last + 1, 8))


# ---------------------------------------------------------------------------------------------
# Detection and landmarks on real photographs


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_landmarks_land_on_the_face(name):
  photo = photos.load_photo(name)
  box = detection.largest_face(photo.image)
  assert box is not None
  # The detector's box is the one recorded with the photo (within a few pixels).
  np.testing.assert_allclose(box, photo.face_box, atol=3)
  points = detection.find_landmarks(photo.image, box)
  assert points.shape == (68, 2) and points.dtype == np.float32
  eyes_y = points[36:48, 1].mean()
  assert eyes_y < points[NOSE_TIP, 1].mean() < points[MOUTH, 1].mean()
  assert points[LEFT_EYE, 0].mean() < points[NOSE_TIP, 0].mean() < points[RIGHT_EYE, 0].mean()
  inner = points[17:]  # brows, eyes, nose, mouth: inside the detected box
  left, top, right, bottom = box
  assert (inner[:, 0] >= left).all() and (inner[:, 0] <= right).all()
  assert (inner[:, 1] >= top).all() and (inner[:, 1] <= bottom).all()


def test_large_frames_are_detected_on_a_shrunk_copy():
  photo = photos.load_photo("astronaut").image
  large = cv2.resize(photo, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)  # 1280 x 1280
  box, expected = detection.largest_face(large), 2.5 * detection.largest_face(photo)
  overlap = np.concatenate([np.maximum(box[:2], expected[:2]), np.minimum(box[2:], expected[2:])])
  intersection = detection.box_area(overlap)
  # dlib's image pyramid steps by 5/6, so box sizes at two scales differ by up to ~10 %.
  union = detection.box_area(box) + detection.box_area(expected) - intersection
  assert intersection / union > 0.75


def test_detection_upsampling_rule():
  assert detection.detection_upsampling(120, 160) == 2
  assert detection.detection_upsampling(240, 320) == 1
  assert detection.detection_upsampling(480, 640) == 0
  assert detection.detection_upsampling(20, 20) == detection.MAX_UPSAMPLING


def test_faceless_frame_has_no_detection():
  rng = np.random.default_rng(0)
  noise = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (0, 0), 3)
  assert detection.detect_faces(noise) == []


# ---------------------------------------------------------------------------------------------
# Dummy videos


@pytest.mark.parametrize("name", photos.PHOTOS)
def test_every_photo_is_found_in_every_frame(name):
  for frame in dummy_videos.face_video_frames(num_frames=4, size=SIZE, seed=7, photo=name):
    assert detection.largest_face(frame) is not None, name


def test_dummy_video_arguments_are_checked(tmp_path):
  with pytest.raises(ValueError, match="suffix"):
    dummy_videos.write_face_video(tmp_path / "video.webm")
  with pytest.raises(ValueError, match="Unknown photo"):
    dummy_videos.write_face_video(tmp_path / "video.mp4", photo="mona_lisa")
  with pytest.raises(ValueError, match="size"):
    dummy_videos.write_face_video(tmp_path / "video.mp4", size=(161, 120))


def test_swapped_video_changes_the_face_only(videos):
  real = video_io.read_frames(videos["real.mp4"], range(FRAMES))
  fake = video_io.read_frames(videos["fake.mp4"], range(FRAMES))
  assert fake.frame_count == real.frame_count == FRAMES
  for index in range(FRAMES):
    frame = fake.frames[index]
    box = detection.largest_face(frame)
    assert box is not None  # the fake still has a real-looking face
    difference = np.abs(frame.astype(int) - real.frames[index]).max(axis=2)
    hull = np.zeros(difference.shape, np.uint8)
    landmarks = detection.find_landmarks(
      real.frames[index], detection.largest_face(real.frames[index])
    )
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(landmarks).astype(np.int32)), 1)
    near_face = cv2.dilate(hull, np.ones((9, 9), np.uint8)) > 0
    assert difference[hull > 0].mean() > 20  # the face changed
    assert difference[~near_face].mean() < 4  # the rest is the target (up to re-encoding)


# ---------------------------------------------------------------------------------------------
# process_video


def _check_example(example, crop_size):
  assert example.image.shape == (crop_size, crop_size, 3) and example.image.dtype == np.uint8
  assert example.landmarks.shape == (68, 2) and example.landmarks.dtype == np.float32
  assert example.face_hull.shape == (crop_size, crop_size, 1)
  assert set(np.unique(example.face_hull)) <= {0, 255}
  # With a margin of 0.3 every landmark is inside the crop ...
  assert (example.landmarks >= -0.5).all() and (example.landmarks <= crop_size - 0.5).all()
  # ... and the hull covers every landmark's pixel.
  rounded = np.round(example.landmarks).astype(int)
  assert (example.face_hull[rounded[:, 1], rounded[:, 0], 0] == 255).all()
  # The crop shows the face where the landmarks say: eyes above the mouth.
  assert example.landmarks[36:48, 1].mean() < example.landmarks[MOUTH, 1].mean()


def test_process_real_video(videos):
  config = faces.FaceCropConfig(crop_size=48, num_frames=20)
  video = faces.process_video(videos["real.mp4"], config)
  assert video.skip_reason is None and video.skipped_frames == []
  assert video.frame_count == FRAMES
  assert [example.frame_index for example in video.examples] == list(range(FRAMES))
  for example in video.examples:
    _check_example(example, 48)
    assert example.intrinsic is None and example.extrinsic is None
  # Sampling fewer frames than the video has: the evenly spaced ones.
  fewer = faces.process_video(videos["real.mp4"], faces.FaceCropConfig(num_frames=3))
  assert [e.frame_index for e in fewer.examples] == list(faces.sample_frame_indices(FRAMES, 3))
  # Reproducible: the same video and config give the same examples.
  again = faces.process_video(videos["real.mp4"], faces.FaceCropConfig(num_frames=3))
  for example, repeated in zip(fewer.examples, again.examples, strict=True):
    np.testing.assert_array_equal(example.image, repeated.image)
    np.testing.assert_array_equal(example.landmarks, repeated.landmarks)


def test_crop_matches_the_frame(videos):
  """The crop is the frame's square (crop_box) resized; landmarks map with it."""
  config = faces.FaceCropConfig(crop_size=32, margin=0.2, num_frames=2)  # shrinking: INTER_AREA
  video = faces.process_video(videos["real.avi"], config)
  frames = video_io.read_frames(videos["real.avi"], [e.frame_index for e in video.examples])
  for example in video.examples:
    left, top, side = example.crop_box
    frame = frames.frames[example.frame_index]
    padded = cv2.copyMakeBorder(frame, side, side, side, side, cv2.BORDER_CONSTANT, value=0)
    square = padded[top + side : top + 2 * side, left + side : left + 2 * side]
    assert side > 32
    expected = cv2.resize(square, (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(example.image, expected)


def test_fake_with_source_gets_artifact_masks(videos):
  config = faces.FaceCropConfig(crop_size=64, num_frames=FRAMES)
  fake = faces.process_video(videos["fake.mp4"], config, source_path=videos["real.mp4"])
  assert fake.skip_reason is None and fake.unmasked_frames == [] and len(fake.examples) == FRAMES
  radius = masks.boundary_radius(64)
  for example in fake.examples:
    _check_example(example, 64)
    intrinsic = example.intrinsic[..., 0] > 0
    extrinsic = example.extrinsic[..., 0] > 0
    # M_in: a substantial region, inside the face (the swap replaced the eroded face hull).
    assert intrinsic.mean() > 0.05
    near_face = ndimage.binary_dilation(example.face_hull[..., 0] > 0, iterations=radius)
    assert (intrinsic & ~near_face).sum() <= 0.02 * intrinsic.sum()
    # M_in is convex: its own hull, up to the rasterisation of the hull's edges.
    own_hull = masks.convex_hull_mask(np.argwhere(intrinsic)[:, ::-1], 64) > 0
    assert not (intrinsic & ~own_hull).any()
    assert not (own_hull & ~ndimage.binary_dilation(intrinsic)).any()
    # M_ex is the boundary band: every pixel within `radius` of the edge of M_in, and no other.
    inside_distance = ndimage.distance_transform_edt(intrinsic)
    outside_distance = ndimage.distance_transform_edt(~intrinsic)
    boundary_distance = np.where(intrinsic, inside_distance, outside_distance)
    assert (boundary_distance[extrinsic] <= radius + 0.5).all()
    assert extrinsic[boundary_distance <= 1].all()
    assert not (extrinsic & (boundary_distance > radius + 1)).any()


def test_real_video_against_itself_has_empty_masks(videos):
  video = faces.process_video(
    videos["real.mp4"], faces.FaceCropConfig(num_frames=3), source_path=videos["real.mp4"]
  )
  assert video.examples and video.unmasked_frames == []
  for example in video.examples:
    assert not example.intrinsic.any() and not example.extrinsic.any()


def test_compression_noise_alone_gives_empty_masks(tmp_path):
  """The same frames compressed by two codecs (mp4v, MJPG) differ only by noise below gamma."""
  frames = dummy_videos.face_video_frames(num_frames=4, size=SIZE, seed=8)
  dummy_videos.write_frames(tmp_path / "mp4v.mp4", frames)
  dummy_videos.write_frames(tmp_path / "mjpg.avi", frames)
  video = faces.process_video(
    tmp_path / "mp4v.mp4", faces.FaceCropConfig(num_frames=4), source_path=tmp_path / "mjpg.avi"
  )
  assert len(video.examples) == 4
  for example in video.examples:
    assert not example.intrinsic.any()


def test_mask_video_gives_intrinsic(tmp_path, videos):
  """An official-style mask video (white region on black) -> M_in is its region in the crop."""
  width, height = SIZE
  region = np.zeros((height, width, 3), np.uint8)
  region[40:90, 60:110] = 255
  mask_path = str(tmp_path / "mask.avi")
  dummy_videos.write_frames(mask_path, [region] * FRAMES)
  config = faces.FaceCropConfig(crop_size=64, num_frames=3)
  video = faces.process_video(
    videos["fake.mp4"], config, source_path=videos["real.mp4"], mask_path=mask_path
  )
  assert video.examples and video.unmasked_frames == []
  for example in video.examples:
    expected = crop.crop_square(region[..., 0], example.crop_box, 64) > 127
    got = example.intrinsic[..., 0] > 0
    assert (got & expected).sum() / (got | expected).sum() > 0.9
    np.testing.assert_array_equal(
      example.extrinsic[..., 0], masks.extrinsic_mask(example.intrinsic[..., 0])
    )


def test_threads_give_the_same_examples(videos):
  config = faces.FaceCropConfig(crop_size=32, num_frames=3)
  jobs = [
    (videos["real.mp4"], None),
    (videos["fake.mp4"], videos["real.mp4"]),
    (videos["real.avi"], None),
  ]
  alone = [faces.process_video(path, config, source_path=source) for path, source in jobs]
  with concurrent.futures.ThreadPoolExecutor(3) as pool:
    threaded = list(
      pool.map(lambda job: faces.process_video(job[0], config, source_path=job[1]), jobs)
    )
  for one, other in zip(alone, threaded, strict=True):
    for example, same in zip(one.examples, other.examples, strict=True):
      np.testing.assert_array_equal(example.image, same.image)
      np.testing.assert_array_equal(example.landmarks, same.landmarks)
      if example.intrinsic is not None:
        np.testing.assert_array_equal(example.intrinsic, same.intrinsic)


def test_unreadable_source_is_reported_not_raised(videos):
  video = faces.process_video(
    videos["fake.mp4"], faces.FaceCropConfig(num_frames=2), source_path=videos["garbage.mp4"]
  )
  assert len(video.examples) == 2 and all(e.intrinsic is None for e in video.examples)
  assert [reason for _, reason in video.unmasked_frames] == ["source: cannot open"] * 2


@pytest.mark.parametrize(
  "name, reason",
  [
    ("garbage.mp4", "cannot open"),
    ("truncated.mp4", "cannot open"),
    ("faceless.mp4", "no face in any frame"),
    ("missing.mp4", "no such file"),
  ],
)
def test_bad_videos_are_skipped_with_a_reason(videos, name, reason):
  path = videos.get(name, os.path.join(os.path.dirname(videos["real.mp4"]), name))
  video = faces.process_video(path, faces.FaceCropConfig(num_frames=4))
  assert video.skip_reason == reason and video.examples == []
  if name == "faceless.mp4":
    assert video.skipped_frames == [(i, "no face") for i in faces.sample_frame_indices(FRAMES, 4)]


def test_truncated_avi_keeps_the_decodable_frames(videos):
  video = faces.process_video(videos["truncated.avi"], faces.FaceCropConfig(num_frames=8))
  assert video.skip_reason is None and video.frame_count == 8
  kept = [example.frame_index for example in video.examples]
  assert kept and kept == list(range(len(kept)))
  assert [index for index, _ in video.skipped_frames] == list(range(len(kept), 8))
  assert all(reason.startswith("truncated after frame") for _, reason in video.skipped_frames)


def test_gap_in_detection_filled_from_close_frames_only(tmp_path):
  """A frame whose face is hidden borrows the box of its neighbours within max_fill_gap."""
  frames = dummy_videos.face_video_frames(num_frames=8, size=SIZE, seed=5)
  frames[3] = cv2.GaussianBlur(frames[3], (0, 0), 6)  # too blurred for the detector
  assert detection.largest_face(frames[3]) is None
  path = str(tmp_path / "gap.avi")
  dummy_videos.write_frames(path, frames)
  # Sampled frames 1, 3, 5, 7: frame 3's neighbours 2 and 4 are searched and fill it.
  filled = faces.process_video(path, faces.FaceCropConfig(num_frames=4, max_fill_gap=1))
  assert [e.frame_index for e in filled.examples] == [1, 3, 5, 7]
  filled = faces.process_video(path, faces.FaceCropConfig(num_frames=8, max_fill_gap=1))
  assert [e.frame_index for e in filled.examples] == list(range(8))
  boxes = {e.frame_index: e.crop_box for e in filled.examples}
  for value in range(3):  # the filled box lies between its neighbours'
    low, high = sorted((boxes[2][value], boxes[4][value]))
    assert low - 1 <= boxes[3][value] <= high + 1
  unfilled = faces.process_video(path, faces.FaceCropConfig(num_frames=8, max_fill_gap=0))
  assert unfilled.skipped_frames == [(3, "no face")]
  assert [e.frame_index for e in unfilled.examples] == [0, 1, 2, 4, 5, 6, 7]


# ---------------------------------------------------------------------------------------------
# Pure parts: tracking, crop, artifacts, PNG


def test_fill_missing_rules():
  box_a, box_b = np.array([0.0, 0.0, 10.0, 10.0]), np.array([6.0, 3.0, 22.0, 19.0])
  detections = {10: box_a, 13: box_b}
  boxes = tracking.fill_missing(detections, [10, 11, 13, 15, 17], max_gap=3)
  np.testing.assert_allclose(boxes[11], box_a + (box_b - box_a) / 3)  # interpolated
  np.testing.assert_allclose(boxes[15], box_b)  # copied from the one close neighbour
  assert 17 not in boxes  # 4 frames from the nearest detection
  assert tracking.fill_missing(detections, [11], max_gap=0) == {}
  assert tracking.frames_to_search([5], 7, [3, 5], 2) == [4, 6]


def test_smooth_weights():
  detections = {
    0: np.array([0.0, 0.0, 10.0, 10.0]),
    1: np.array([2.0, 2.0, 14.0, 14.0]),
    2: np.array([4.0, 0.0, 14.0, 10.0]),
    9: np.array([50.0, 50.0, 60.0, 60.0]),
  }
  smoothed = tracking.smooth(detections, detections, max_gap=2)
  centre_size = lambda b: np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]])
  expected = (
    2 * centre_size(detections[1]) + centre_size(detections[0]) + centre_size(detections[2])
  ) / 4
  np.testing.assert_allclose(centre_size(smoothed[1]), expected)
  np.testing.assert_allclose(smoothed[9], detections[9])  # no close neighbour: unchanged


def test_crop_coordinates_follow_a_marked_pixel():
  rng = np.random.default_rng(0)
  for _ in range(20):
    image = np.zeros((100, 120), np.uint8)
    x, y = rng.integers(0, 120), rng.integers(0, 100)
    image[y, x] = 255
    side = int(rng.integers(8, 60))
    box = (int(x - rng.integers(0, side)), int(y - rng.integers(0, side)), side)
    cropped = crop.crop_square(image, box, side)  # same size: no resampling
    u, v = crop.to_crop_coordinates(np.array([[x, y]]), box, side)[0]
    assert cropped[int(round(v)), int(round(u))] == 255
    # Scaled by 2 (enlarging), the point maps to the centre of its 2x2 block.
    u2, v2 = crop.to_crop_coordinates(np.array([[x, y]]), box, 2 * side)[0]
    np.testing.assert_allclose((u2, v2), (2 * u + 0.5, 2 * v + 0.5))
  with pytest.raises(ValueError, match="positive size"):
    crop.square_crop_box(np.array([5.0, 5.0, 5.0, 9.0]), 0.3)
  # 20 x 40 box, margin 0.25: 30 x 60, squared to 60 around the centre (20, 40).
  assert crop.square_crop_box(np.array([10.0, 20.0, 30.0, 60.0]), 0.25) == (-10, 10, 60)


def test_intrinsic_from_source_ignores_noise_and_specks():
  rng = np.random.default_rng(1)
  source = rng.integers(60, 200, (64, 64, 3)).astype(np.uint8)
  source = cv2.GaussianBlur(source, (0, 0), 2)
  fake = np.clip(source + rng.normal(0, 3, source.shape), 0, 255).astype(np.uint8)  # noise
  fake[5, 5] = 255  # an isolated speck
  assert not artifacts.intrinsic_from_source(fake, source, 16).any()
  fake[20:40, 24:44] = fake[20:40, 24:44] // 2  # the manipulated region, 30-100 levels darker
  intrinsic = artifacts.intrinsic_from_source(fake, source, 16) > 0
  expected = np.zeros((64, 64), bool)
  expected[20:40, 24:44] = True
  assert (intrinsic & expected).sum() / (intrinsic | expected).sum() > 0.8


def test_encode_png_round_trip():
  rng = np.random.default_rng(2)
  for shape in [(9, 7, 3), (9, 7, 1), (9, 7)]:
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    decoded = cv2.imdecode(np.frombuffer(faces.encode_png(array), np.uint8), cv2.IMREAD_UNCHANGED)
    if len(shape) == 3 and shape[2] == 3:
      decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(decoded, array.reshape(decoded.shape))
  with pytest.raises(ValueError, match="uint8"):
    faces.encode_png(np.zeros((4, 4, 3), np.float32))
  with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
    faces.encode_png(np.zeros((4, 4, 2), np.uint8))


def test_config_is_checked():
  with pytest.raises(ValueError, match="crop_size"):
    faces.FaceCropConfig(crop_size=2)
  with pytest.raises(ValueError, match="margin"):
    faces.FaceCropConfig(margin=-0.1)
  with pytest.raises(TypeError, match="FaceCropConfig"):
    faces.process_video("video.mp4", {"crop_size": 64})


# ---------------------------------------------------------------------------------------------
# Missing models


def test_missing_models_package_is_named(monkeypatch):
  monkeypatch.setattr(models, "_predictor", None)
  monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
  with pytest.raises(faces.FaceModelsMissingError, match="face-recognition-models"):
    models.landmark_predictor()


def test_missing_model_file_is_named(monkeypatch, tmp_path):
  spec = importlib.util.spec_from_loader(models.MODELS_PACKAGE, loader=None, is_package=True)
  spec.submodule_search_locations.append(str(tmp_path))
  monkeypatch.setattr(models, "_predictor", None)
  monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: spec)
  expected = os.path.join(str(tmp_path), "models", models.LANDMARKS_MODEL)
  with pytest.raises(faces.FaceModelsMissingError, match="missing") as error:
    models.landmark_predictor()
  assert expected in str(error.value)


# ---------------------------------------------------------------------------------------------
# The minimum face score (calibrated on packaged images: WORKSPACE.md, Faces)


def test_no_face_on_any_faceless_image_or_texture():
  from fakenas_jax.data.faces import calibration

  found = {
    name: detection.detect_faces_scored(image) for name, image in calibration.negatives().items()
  }
  assert {name: boxes for name, boxes in found.items() if boxes} == {}
  assert len(found) > 30


def test_every_real_photo_has_exactly_its_face():
  """The astronaut's suit badge scores just below 0; the default threshold keeps only her face."""
  from fakenas_jax.data.faces import calibration

  for name, (image, face_box) in calibration.positives().items():
    scored = detection.detect_faces_scored(image)
    assert len(scored) == 1, (name, [s for _, s in scored])
    if face_box is not None:
      box = scored[0][0]
      assert abs(box[0] - face_box[0]) < 10 and abs(box[3] - face_box[3]) < 10
  astronaut = photos.load_photo("astronaut").image
  assert len(detection.detect_faces(astronaut, min_score=-0.5)) > 1  # the badge and more
  assert len(detection.detect_faces(astronaut)) == 1


def test_a_weak_detection_lends_no_box_to_its_neighbours(tmp_path):
  """A faceless video with one frame holding a blurred face that dlib scores around -0.1: with
  threshold -1 that box is tracked into the neighbouring frames; at the default nothing is."""
  frames = dummy_videos.faceless_video_frames(num_frames=6, size=SIZE, seed=2)
  face = dummy_videos.face_video_frames(num_frames=6, size=SIZE, seed=5)[2]
  frames[2] = cv2.GaussianBlur(face, (0, 0), 2)
  weak = detection.detect_faces_scored(frames[2], min_score=-1.0)
  assert len(weak) == 1 and -1.0 < weak[0][1] < detection.DEFAULT_MIN_SCORE["hog"]
  path = str(tmp_path / "weak.avi")
  dummy_videos.write_frames(path, frames)
  lenient = faces.process_video(path, faces.FaceCropConfig(num_frames=6, min_face_score=-1.0))
  assert [e.frame_index for e in lenient.examples] == [0, 1, 2, 3, 4, 5]  # lent to neighbours
  strict = faces.process_video(path, faces.FaceCropConfig(num_frames=6))
  assert strict.examples == [] and strict.skip_reason == "no face in any frame"


def test_faceless_video_yields_no_face_at_the_default(videos):
  processed = faces.process_video(videos["faceless.mp4"], faces.FaceCropConfig(num_frames=6))
  assert processed.examples == [] and processed.skip_reason == "no face in any frame"


def test_cnn_detector_finds_the_face_and_is_chosen_by_config():
  image = photos.load_photo("grace_hopper").image
  scored = detection.detect_faces_scored(image, detector="cnn")
  assert len(scored) == 1
  box, face_box = scored[0][0], photos.load_photo("grace_hopper").face_box
  centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
  assert face_box[0] < centre[0] < face_box[2] and face_box[1] < centre[1] < face_box[3]
  with pytest.raises(ValueError, match="detector"):
    faces.FaceCropConfig(detector="haar")
  with pytest.raises(ValueError, match="unknown face detector"):
    detection.detect_faces(image, detector="haar")
