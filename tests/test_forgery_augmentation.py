"""BiG-Arts forgery-face augmentation: the warp, the composites, the landmark index, the batches."""

import numpy as np
import pytest

from fakenas_jax.data import degradations, masks, pipeline, preprocess, synthetic
from fakenas_jax.data import forgery_augmentation as fa

SIZE = 64


@pytest.fixture(scope="module")
def faces():
  """Two rendered real frames of different identities and a fake with its intrinsic mask."""
  recipe = synthetic.RECIPES["studio"]
  real_a = synthetic.generate_video(
    recipe, seed=(1, 0, 0), target_identity=0, num_frames=1, resolution=SIZE
  ).frames[0]
  real_b = synthetic.generate_video(
    recipe, seed=(1, 0, 1), target_identity=1, num_frames=1, resolution=SIZE
  ).frames[0]
  fake = synthetic.generate_video(
    recipe,
    seed=(1, 0, 2),
    target_identity=2,
    source_identity=3,
    method="swap_bilinear",
    num_frames=1,
    resolution=SIZE,
  ).frames[0]
  return real_a, real_b, fake


def _transformed(landmarks, transform):
  return np.asarray(landmarks) @ transform[:, :2].T + transform[:, 2]


def _boundary(mask):
  """Pixels of the mask with a 4-neighbour outside it (the image border counts as inside)."""
  inside = np.pad(mask > 0, 1, mode="edge")
  core = inside[1:-1, 1:-1]
  neighbours_in = inside[:-2, 1:-1] & inside[2:, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:]
  return core & ~neighbours_in


def test_the_hull_warp_shrinks_the_hull_inside_itself(faces):
  landmarks = faces[0].landmarks
  hull = masks.face_hull_mask(landmarks, SIZE)
  grown = masks.dilate(hull, 1) > 0
  areas = []
  for seed in range(8):
    warp = fa.random_hull_warp(landmarks, (SIZE, SIZE), np.random.default_rng(seed), 0.4)
    deformed = fa.warp_mask(hull, warp)
    assert deformed.any() and not (deformed.astype(bool) & ~grown).any()
    # The nodes move along their rays towards the centre, never outwards.
    offsets_source = np.linalg.norm(warp.source - warp.centre, axis=1)
    offsets_target = np.linalg.norm(warp.target - warp.centre, axis=1)
    assert np.all(offsets_target <= offsets_source + 1e-9)
    assert np.all(offsets_target[1:] >= 0.6 * offsets_source[1:] - 1e-9)
    areas.append((deformed > 0).sum() / (hull > 0).sum())
  assert 0.4 < min(areas) and max(areas) < 0.98 and len(set(areas)) > 4  # random, smaller
  # No deformation: the warp is the identity on the hull (up to its rasterisation).
  still = fa.warp_mask(
    hull, fa.random_hull_warp(landmarks, (SIZE, SIZE), np.random.default_rng(0), 0.0)
  )
  assert np.abs(still.astype(int) - hull).astype(bool).sum() <= 0.03 * (hull > 0).sum()


def test_similarity_transform_recovers_a_known_one():
  rng = np.random.default_rng(0)
  points = rng.uniform(0, 64, (68, 2))
  angle, scale, shift = 0.3, 1.2, np.array([4.0, -3.0])
  rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
  moved = scale * points @ rotation.T + shift
  transform = fa.similarity_transform(points, moved)
  np.testing.assert_allclose(transform[:, :2], scale * rotation, atol=1e-9)
  np.testing.assert_allclose(_transformed(points, transform), moved, atol=1e-9)


@pytest.mark.parametrize("align", [False, True])
def test_real_real_composite(faces, align):
  source, target, _ = faces
  composite = fa.compose(
    fa.REAL_REAL,
    source.image,
    source.landmarks,
    target.image,
    target.landmarks,
    np.random.default_rng(3),
    align=align,
  )
  inside = composite.blend > 0
  assert 0 < inside.sum() < inside.size
  np.testing.assert_array_equal(composite.image[~inside], target.image[~inside])
  if not align:
    np.testing.assert_array_equal(composite.image[inside], source.image[inside])
  # Inside A's hull (moved onto B when aligned), up to a pixel of rasterisation.
  hull = masks.face_hull_mask(_transformed(source.landmarks, composite.transform), SIZE)
  assert not (inside & ~(masks.dilate(hull, 1) > 0)).any()
  assert not composite.intrinsic.any()  # (Real, Real): no intrinsic artifacts
  np.testing.assert_array_equal(composite.extrinsic, masks.extrinsic_mask(composite.blend))
  assert (composite.extrinsic[_boundary(composite.blend)] > 0).all()  # the band is around M~
  radius = masks.boundary_radius(SIZE)
  far_inside = masks.erode(composite.blend, radius + 1) > 0
  assert not (composite.extrinsic[far_inside]).any()
  np.testing.assert_array_equal(composite.face_hull, masks.face_hull_mask(target.landmarks, SIZE))


def test_fake_real_composite_is_bounded_by_the_changed_region(faces):
  _, target, fake = faces
  composite = fa.compose(
    fa.FAKE_REAL,
    fake.image,
    fake.landmarks,
    target.image,
    target.landmarks,
    np.random.default_rng(5),
    source_intrinsic=fake.intrinsic,
    align=False,
  )
  inside = composite.blend > 0
  assert inside.any()
  assert not (inside & ~(fake.intrinsic > 0)).any()  # M~ = M' ⊙ T(M'') ⊆ M'
  assert not (inside & ~(masks.dilate(fake.face_hull, 1) > 0)).any()  # and inside the hull
  assert inside.sum() < (fake.intrinsic > 0).sum()  # the deformation cut into it
  np.testing.assert_array_equal(composite.intrinsic, composite.blend)  # M_In from M~
  np.testing.assert_array_equal(composite.image[inside], fake.image[inside])
  np.testing.assert_array_equal(composite.image[~inside], target.image[~inside])
  # No intrinsic mask (a corpus without artifact masks): the hull stands in for M'.
  without = fa.compose(
    fa.FAKE_REAL,
    fake.image,
    fake.landmarks,
    target.image,
    target.landmarks,
    np.random.default_rng(5),
    source_intrinsic=None,
    align=False,
  )
  assert (
    without.blend.any() and not ((without.blend > 0) & ~(masks.dilate(fake.face_hull, 1) > 0)).any()
  )


def _brute_force(vectors, identity, query, banned, k):
  distances = np.linalg.norm(vectors - query, axis=1)
  order = [i for i in np.argsort(distances, kind="stable") if identity[i] not in banned]
  return order[:k], distances[order[:k]]


def test_landmark_index_equals_a_brute_force_scan():
  rng = np.random.default_rng(0)
  vectors = rng.normal(size=(300, 136))
  identity = rng.integers(0, 12, 300).astype(str)
  index = fa.LandmarkIndex.build(vectors, identity)
  queries = rng.normal(size=(40, 136))
  excluded = [
    tuple(rng.choice(12, size=rng.integers(1, 4), replace=False).astype(str)) for _ in range(40)
  ]
  rows, distances = index.nearest(queries, excluded, k=3)
  for q in range(40):
    expected_rows, expected_distances = _brute_force(vectors, identity, queries[q], excluded[q], 3)
    np.testing.assert_array_equal(rows[q], expected_rows)
    np.testing.assert_allclose(distances[q], expected_distances)
  # An identity-excluding query that needs more than the first neighbours asked for.
  lonely = fa.LandmarkIndex.build(np.r_[np.zeros((50, 2)), np.ones((1, 2))], ["a"] * 50 + ["b"])
  assert lonely.nearest(np.zeros((1, 2)), [("a",)], k=1)[0][0, 0] == 50


def test_target_table_of_the_tiny_corpus_equals_a_scan(tiny_builder):
  source = tiny_builder.as_data_source("train")
  table = pipeline.read_frame_table(source)
  real = np.flatnonzero(table.label == 0)
  fake = np.flatnonzero(table.label == 1)
  targets = fa.build_target_table(source, real, fake, candidates=2)
  records = [source[int(i)] for i in range(len(source))]
  width = records[0]["image"].shape[1]
  vectors = np.stack([r["landmarks"].reshape(-1) / width for r in records])
  for row, record in enumerate(targets.source_records):
    own = records[record]
    banned = {str(int(own["identity"]))}
    if int(own["source_identity"]) >= 0:
      banned.add(str(int(own["source_identity"])))
    candidates = [i for i in real if str(int(records[i]["identity"])) not in banned]
    distances = np.linalg.norm(vectors[candidates] - vectors[record], axis=1)
    expected = np.asarray(candidates)[np.argsort(distances, kind="stable")[:2]]
    np.testing.assert_array_equal(targets.targets[row], expected)
    for target in targets.targets[row]:
      assert records[target]["label"] == 0 and str(int(records[target]["identity"])) not in banned


def test_batch_kinds_are_half_real_and_thirds_of_fakes():
  for batch_size in (4, 6, 12, 32):
    totals = np.zeros(4, np.int64)
    for batch in range(30):
      counts = fa.batch_kind_counts(batch_size, batch)
      assert counts.sum() == batch_size and counts[0] == batch_size // 2
      assert counts[1:].max() - counts[1:].min() <= 1
      for kind in range(4):
        assert fa.kinds_before(batch_size, batch, kind) == totals[kind]
      totals += counts
    assert len(set(totals[1:])) == 1  # over 30 batches (a multiple of 3) exact thirds


@pytest.fixture(scope="module")
def augmented(tiny_builder):
  source = tiny_builder.as_data_source("train")

  def make(**kwargs):
    sampler = fa.ForgerySampler(source=source)
    settings = dict(
      source=source,
      global_batch_size=12,
      image_size=32,
      training=True,
      seed=3,
      masks=("face_hull", "intrinsic", "extrinsic"),
      sampler=sampler,
      process_index=0,
      process_count=1,
      num_threads=2,
      mean=0.0,
      std=1.0,
    )
    return pipeline.make_pipeline(**{**settings, **kwargs}), sampler

  return make


def test_training_batches_hold_the_four_kinds(augmented):
  pipe, sampler = augmented()
  iterator = iter(pipe)
  batches = [next(iterator) for _ in range(3)]
  for batch in batches:
    kinds = batch["forgery_kind"]
    np.testing.assert_array_equal(np.bincount(kinds, minlength=4), [6, 2, 2, 2])
    np.testing.assert_array_equal(batch["label"], (kinds > 0).astype(np.int32))
    real = kinds == fa.REAL
    assert not batch["intrinsic"][real].any() and not batch["extrinsic"][real].any()
    composite = kinds >= fa.REAL_REAL
    assert (batch["method"][composite] == -1).all() and (batch["method"][~composite] >= 0).all()
    for row in np.flatnonzero(kinds == fa.REAL_REAL):
      assert not batch["intrinsic"][row].any() and batch["extrinsic"][row].any()
    for row in np.flatnonzero(kinds == fa.FAKE_REAL):
      assert batch["intrinsic"][row].any() and batch["extrinsic"][row].any()
      # The band surrounds the intrinsic mask: its boundary lies in the band.
      intrinsic = (batch["intrinsic"][row, ..., 0] > 0.5).astype(np.uint8) * 255
      assert (batch["extrinsic"][row, ..., 0][_boundary(intrinsic)] > 0).all()
  # Composites come from the table's sources into targets of other identities.
  table = sampler.target_table
  assert (table.targets[:, 0] >= 0).all()
  # The same seed gives the same batches; a restored iterator goes on identically.
  again = iter(augmented()[0])
  first = next(again)
  np.testing.assert_array_equal(first["image"], batches[0]["image"])
  state = again.get_state()
  resumed = iter(augmented()[0])
  resumed.set_state(state)
  np.testing.assert_array_equal(next(resumed)["image"], batches[1]["image"])


def test_the_augmentation_hook_runs_after_compositing(augmented):
  calls = []

  def recording_jpeg(images, rng):
    calls.append(images["image"].shape)
    return degradations.random_jpeg(images, rng)

  pipe, _ = augmented(augment=recording_jpeg, num_threads=0, prefetch_batches=0)
  batch = next(iter(pipe))
  assert len(calls) == 12  # every example, composites included
  assert batch["image"].shape == (12, 32, 32, 3)
  with pytest.raises(ValueError, match="real and fake"):
    source = [
      {
        "image": np.zeros((32, 32, 3), np.uint8),
        "label": 0,
        "video_id": f"v{i}",
        "frame_index": 0,
        "method": "real",
        "landmarks": np.zeros((68, 2)),
      }
      for i in range(4)
    ]
    pipeline.make_pipeline(
      source=source,
      global_batch_size=2,
      image_size=32,
      training=True,
      sampler=fa.ForgerySampler(source=source),
      process_index=0,
      process_count=1,
    )


def test_random_jpeg_compresses_the_image_only():
  rng = np.random.default_rng(0)
  image = (
    synthetic.generate_video(
      synthetic.RECIPES["celeb"], seed=(2,), target_identity=0, num_frames=1, resolution=SIZE
    )
    .frames[0]
    .image
  )
  mask = np.zeros((SIZE, SIZE, 1), np.uint8)
  mask[10:20] = 255
  out = degradations.random_jpeg({"image": image, "intrinsic": mask}, rng)
  assert out["intrinsic"] is mask
  quality = int(np.random.default_rng(0).integers(75, 101))
  np.testing.assert_array_equal(out["image"], degradations.jpeg(image, quality))
  decoded = preprocess.decode_image(degradations.jpeg_bytes(image, quality), channels=3)
  np.testing.assert_array_equal(out["image"], decoded)
