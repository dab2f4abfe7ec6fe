"""The grain input pipeline, read from the tiny synthetic corpus (built once per session)."""

import collections
import json

import grain
import numpy as np
import orbax.checkpoint as ocp
import pytest
import tensorflow_datasets as tfds

from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.data import preprocess

SIZE = 24  # the corpus is 32x32, so every image is resized


@pytest.fixture(scope="module")
def train_source(tiny_builder):
  return tiny_builder.as_data_source("train")


@pytest.fixture(scope="module")
def decoded_records(tiny_builder):
  """Every train record decoded by TFDS itself, keyed by (video_id, frame_index)."""
  records = {}
  for record in tiny_builder.as_data_source("train"):
    records[(record["video_id"].decode(), int(record["frame_index"]))] = record
  return records


def make(source, **kwargs):
  defaults = dict(
    source=source,
    global_batch_size=4,
    image_size=SIZE,
    training=False,
    process_index=0,
    process_count=1,
    num_threads=2,
  )
  return pipeline_lib.make_pipeline(**{**defaults, **kwargs})


def frames_of(batch, pipeline, valid_only=True):
  """(video_id, frame_index) of each row of a batch."""
  rows = np.flatnonzero(batch["valid"]) if valid_only else range(len(batch["valid"]))
  return [(pipeline.video_ids[batch["video"][i]], int(batch["frame_index"][i])) for i in rows]


def take(iterator, count):
  return [next(iterator) for _ in range(count)]


def assert_batches_equal(expected, actual):
  assert len(expected) == len(actual)
  for a, b in zip(expected, actual):
    assert a.keys() == b.keys()
    for name in a:
      np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_frame_table_matches_the_records(train_source, decoded_records):
  table = pipeline_lib.read_frame_table(train_source)
  assert len(table) == len(train_source) == len(decoded_records)
  for i in range(len(table)):
    record = decoded_records[(table.video_ids[table.video[i]], int(table.frame_index[i]))]
    assert table.label[i] == record["label"]
    assert table.method_names[table.method[i]] == record["method"].decode()
  assert list(table.video_ids) == sorted(table.video_ids)
  assert "real" in table.method_names


def test_batch_without_masks_shapes_dtypes_ranges(train_source):
  pipeline = make(train_source)
  batch = next(iter(pipeline))
  assert set(batch) == {"image", "label", "video", "frame_index", "method", "valid"}
  assert batch["image"].shape == (4, SIZE, SIZE, 3) and batch["image"].dtype == np.float32
  for name in ("label", "video", "frame_index", "method"):
    assert batch[name].shape == (4,) and batch[name].dtype == np.int32, name
  assert batch["valid"].dtype == np.bool_ and batch["valid"].all()
  assert -1.0 <= batch["image"].min() < batch["image"].max() <= 1.0
  methods = [pipeline.method_names[m] for m in batch["method"]]
  np.testing.assert_array_equal(batch["label"], [m != "real" for m in methods])


def test_masks_are_returned_only_when_asked(train_source):
  batch = next(iter(make(train_source, masks=preprocess.MASK_FEATURES)))
  for name in preprocess.MASK_FEATURES:
    assert batch[name].shape == (4, SIZE, SIZE, 1) and batch[name].dtype == np.float32
    assert 0.0 <= batch[name].min() and batch[name].max() <= 1.0
  assert batch["face_hull"].max() > 0.5  # the hull of a face is not empty
  only_hull = next(iter(make(train_source, masks=("face_hull",))))
  assert "face_hull" in only_hull and "intrinsic" not in only_hull
  np.testing.assert_array_equal(only_hull["face_hull"], batch["face_hull"])


def test_pixels_match_tfds_decoding(train_source, decoded_records):
  """At the stored size no resize happens: the image is TFDS's decoding, normalised."""
  pipeline = make(
    train_source, image_size=32, masks=("face_hull",), mean=(0.2, 0.4, 0.6), std=(0.5, 0.25, 1.0)
  )
  batch = next(iter(pipeline))
  for row, key in enumerate(frames_of(batch, pipeline)):
    record = decoded_records[key]
    expected = (record["image"] / 255.0 - np.array([0.2, 0.4, 0.6])) / np.array([0.5, 0.25, 1.0])
    np.testing.assert_allclose(batch["image"][row], expected, atol=1e-5)
    np.testing.assert_allclose(batch["face_hull"][row], record["face_hull"] / 255.0, atol=1e-6)


def test_evenly_spaced_frame_selection():
  # Video 0 has 10 frames stored out of order, video 1 has 2, video 2 has 5.
  frames = (
    [(0, f) for f in (3, 0, 9, 1, 2, 8, 4, 5, 7, 6)] + [(1, 1), (1, 0)] + [(2, f) for f in range(5)]
  )
  video, frame_index = (np.array(column, np.int32) for column in zip(*frames))
  zeros = np.zeros(len(frames), np.int32)
  table = pipeline_lib.FrameTable(video, frame_index, zeros, zeros, ("a", "b", "c"), ("real",))
  selected = pipeline_lib.select_frames(table, 4)
  chosen = collections.defaultdict(list)
  for record in selected:
    chosen[int(video[record])].append(int(frame_index[record]))
  assert {v: sorted(f) for v, f in chosen.items()} == {0: [0, 3, 6, 9], 1: [0, 1], 2: [0, 1, 3, 4]}
  assert list(selected) == sorted(selected)
  assert len(pipeline_lib.select_frames(table, None)) == len(frames)
  assert [len(pipeline_lib.evenly_spaced(n, 1)) for n in (1, 7)] == [1, 1]
  with pytest.raises(ValueError, match="frames_per_video"):
    pipeline_lib.select_frames(table, 0)


def test_frames_per_video_in_the_pipeline(train_source):
  pipeline = make(train_source, frames_per_video=2)
  table = pipeline.table
  seen = collections.defaultdict(list)
  for batch in pipeline:
    for video_id, frame in frames_of(batch, pipeline):
      seen[video_id].append(frame)
  assert set(seen) == set(table.video_ids)
  for video_id, frames in seen.items():
    all_frames = sorted(table.frame_index[table.video == table.video_ids.index(video_id)])
    expected = [all_frames[0], all_frames[-1]] if len(all_frames) > 1 else all_frames
    assert sorted(frames) == expected, video_id


def test_evaluation_sees_every_frame_once_and_pads(train_source):
  pipeline = make(train_source, global_batch_size=5)
  n = len(train_source)
  batches = list(pipeline)
  assert len(batches) == pipeline.num_batches == -(-n // 5)
  seen = [key for batch in batches for key in frames_of(batch, pipeline)]
  assert len(seen) == len(set(seen)) == n
  valid = np.concatenate([batch["valid"] for batch in batches])
  assert valid.sum() == n and not valid[n:].any()  # padding only at the end
  last = batches[-1]
  padding = ~last["valid"]
  assert (last["video"][padding] == -1).all() and (last["image"][padding] == 0).all()


def test_training_is_deterministic_and_reshuffles_epochs(train_source):
  n = len(train_source)
  first = make(train_source, training=True, seed=3, num_epochs=2)
  again = make(train_source, training=True, seed=3, num_epochs=2)
  other = make(train_source, training=True, seed=4, num_epochs=2)
  batches = list(first)
  assert len(batches) == first.num_batches == 2 * (n // 4) == 2 * first.steps_per_epoch
  assert_batches_equal(batches, list(again))
  epochs = [
    [
      key
      for batch in batches[e * first.steps_per_epoch : (e + 1) * first.steps_per_epoch]
      for key in frames_of(batch, first)
    ]
    for e in range(2)
  ]
  for epoch in epochs:
    assert len(epoch) == len(set(epoch)) == first.steps_per_epoch * 4  # no repeat in an epoch
  assert epochs[0] != epochs[1]  # reshuffled
  other_order = [key for batch in other for key in frames_of(batch, other)]
  assert other_order != epochs[0] + epochs[1]
  assert all(batch["valid"].all() for batch in batches)


def test_augmentation_is_per_example_and_deterministic(train_source):
  plain = list(make(train_source, training=True, seed=1, num_epochs=1))
  flipped = list(
    make(
      train_source,
      training=True,
      seed=1,
      num_epochs=1,
      augment=preprocess.random_horizontal_flip,
      masks=("face_hull",),
    )
  )
  flipped_again = list(
    make(
      train_source,
      training=True,
      seed=1,
      num_epochs=1,
      augment=preprocess.random_horizontal_flip,
      masks=("face_hull",),
    )
  )
  assert_batches_equal(flipped, flipped_again)
  mirrored = same = 0
  for a, b in zip(plain, flipped):
    np.testing.assert_array_equal(a["video"], b["video"])  # augmenting keeps the order
    for row in range(len(a["video"])):
      if np.array_equal(a["image"][row], b["image"][row]):
        same += 1
      else:
        np.testing.assert_array_equal(a["image"][row][:, ::-1], b["image"][row])
        mirrored += 1
  assert mirrored and same


def test_augmentation_output_is_checked(train_source):
  to_float = lambda images, rng: {k: v.astype(np.float32) for k, v in images.items()}
  with pytest.raises(ValueError, match="uint8"):
    next(iter(make(train_source, augment=to_float)))


def test_resumed_iterator_yields_the_same_batches(train_source):
  kwargs = dict(training=True, seed=7, num_epochs=3, augment=preprocess.random_horizontal_flip)
  pipeline = make(train_source, **kwargs)
  steps = pipeline.steps_per_epoch
  iterator = iter(pipeline)
  take(iterator, steps - 2)
  state = json.loads(json.dumps(iterator.get_state()))  # as an Orbax checkpoint would keep it
  expected = take(iterator, 5)  # crosses the epoch boundary
  restored = iter(make(train_source, **kwargs))
  take(restored, 1)  # a restore overrides wherever the iterator was
  restored.set_state(state)
  assert_batches_equal(expected, take(restored, 5))


def test_process_shards_are_disjoint_and_form_the_global_batches(train_source):
  for training in (True, False):
    kwargs = dict(
      global_batch_size=4, training=training, seed=5, num_epochs=1 if training else None
    )
    single = list(make(train_source, **kwargs))
    shards = [
      list(make(train_source, process_index=p, process_count=2, **kwargs)) for p in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == len(single)
    pipeline = make(train_source)
    for whole, *parts in zip(single, *shards):
      assert [len(part["valid"]) for part in parts] == [2, 2]
      keys = [frames_of(part, pipeline) for part in parts]
      assert not set(keys[0]) & set(keys[1])
      assert sorted(keys[0] + keys[1]) == sorted(frames_of(whole, pipeline))


@pytest.mark.parametrize(
  "kwargs, message",
  [
    (dict(global_batch_size=5, process_count=2), "multiple of the process count"),
    (dict(process_index=2, process_count=2), "process_index"),
    (dict(masks=("hull",)), "masks"),
    (dict(training=True, global_batch_size=10_000), "exceeds"),
    (dict(num_epochs=2), "evaluation"),
    (dict(frames_per_video=0), "frames_per_video"),
  ],
)
def test_bad_arguments_are_explained(train_source, kwargs, message):
  with pytest.raises(ValueError, match=message):
    make(train_source, **kwargs)


def test_other_sources_give_the_same_batches(tiny_builder, train_source):
  """The source's TFDS decoders do not matter (records are read raw), and a plain list of
  decoded records works too."""
  expected = list(make(train_source, masks=("extrinsic",)))
  skip = {name: tfds.decode.SkipDecoding() for name in ("image",) + preprocess.MASK_FEATURES}
  undecoded = tiny_builder.as_data_source("train", decoders=skip)
  assert_batches_equal(expected, list(make(undecoded, masks=("extrinsic",))))
  records = [train_source[i] for i in range(len(train_source))]
  assert_batches_equal(expected, list(make(records, masks=("extrinsic",))))


def test_preprocess_rejects_bad_images():
  with pytest.raises(ValueError, match="decode"):
    preprocess.decode_image(b"not an image", channels=3)
  with pytest.raises(ValueError, match="std"):
    preprocess.channel_stats((0.5, 0.0, 0.5), "std")


def test_iterator_state_round_trips_through_an_orbax_checkpoint(train_source, tmp_path):
  kwargs = dict(training=True, seed=2, num_epochs=2)
  iterator = iter(make(train_source, **kwargs))
  take(iterator, 3)
  with ocp.CheckpointManager(tmp_path) as manager:
    manager.save(3, args=ocp.args.Composite(data=grain.checkpoint.CheckpointSave(iterator)))
    manager.wait_until_finished()
  expected = take(iterator, 4)
  restored = iter(make(train_source, **kwargs))
  with ocp.CheckpointManager(tmp_path) as manager:
    manager.restore(3, args=ocp.args.Composite(data=grain.checkpoint.CheckpointRestore(restored)))
  assert_batches_equal(expected, take(restored, 4))


def test_video_folds_split_videos_in_halves_with_both_classes(tiny_builder):
  source = tiny_builder.as_data_source("train")
  table = pipeline_lib.read_frame_table(source)
  halves = [
    pipeline_lib.make_pipeline(
      source=source,
      global_batch_size=2,
      image_size=16,
      training=False,
      video_fold=(i, 2),
      table=table,
    )
    for i in range(2)
  ]
  videos = [set(table.video[h.selected]) for h in halves]
  assert not videos[0] & videos[1]
  assert videos[0] | videos[1] == set(range(len(table.video_ids)))
  for half in halves:
    assert set(table.label[half.selected]) == {0, 1}
