"""The speech pipeline on the tiny synthetic spoofing corpus: batches, order, shards, resume."""

import jax
import numpy as np
import pytest

from fakenas_jax import audio
from fakenas_jax.data import corpora, preparation
from fakenas_jax.data import speech_pipeline as sp

SPEC = "synthetic_speech/tiny"


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  preparation.prepare(SPEC, data_dir, builder_kwargs={"num_workers": 1})
  return corpora.load_builder(SPEC, str(data_dir))


@pytest.fixture(scope="module")
def train(builder):
  return builder.as_data_source("train")


def _pipeline(source, **kwargs):
  settings = dict(
    source=source, global_batch_size=4, training=True, seed=0, num_threads=1, prefetch_batches=1
  )
  settings.update(kwargs)
  return sp.make_speech_pipeline(**settings)


def _take(iterator, count):
  return [next(iterator) for _ in range(count)]


def test_batches_hold_fixed_length_audio_and_the_metadata(train):
  pipe = _pipeline(train, num_samples=20000)
  assert pipe.steps_per_epoch == len(train) // 4
  batch = next(iter(pipe))
  assert batch["audio"].shape == (4, 20000) and batch["audio"].dtype == np.float32
  for row in range(4):
    record = train[int(batch["utterance"][row])]
    assert pipe.utterance_ids[batch["utterance"][row]] == record["utterance_id"].decode()
    expected = audio.fit_length(record["audio"], 20000).astype(np.float32) / 32768
    np.testing.assert_array_equal(batch["audio"][row], expected)
    assert batch["label"][row] == record["label"]
    assert pipe.attack_names[batch["attack"][row]] == record["attack_id"].decode()
    assert pipe.speaker_names[batch["speaker"][row]] == record["speaker"].decode()
  assert batch["valid"].all()
  assert pipe.attack_names[0] == sp.BONAFIDE_ATTACK


def test_short_utterances_repeat_to_four_seconds(train):
  batch = next(iter(_pipeline(train)))
  assert batch["audio"].shape == (4, audio.FIXED_LENGTH)
  for row in range(4):
    length = len(train[int(batch["utterance"][row])]["audio"])
    assert length < audio.FIXED_LENGTH  # the tiny corpus has 1-1.5 s utterances
    np.testing.assert_array_equal(
      batch["audio"][row, length : 2 * length], batch["audio"][row, :length]
    )


def test_epochs_are_permutations_and_the_seed_fixes_the_order(train):
  pipe = _pipeline(train, num_samples=64)
  steps = pipe.steps_per_epoch
  batches = _take(iter(pipe), 2 * steps)
  epochs = [
    np.concatenate([b["utterance"] for b in batches[e * steps : (e + 1) * steps]]) for e in range(2)
  ]
  for order in epochs:
    assert len(set(order.tolist())) == len(order) == steps * 4
  assert not np.array_equal(epochs[0], epochs[1])
  again = _take(iter(_pipeline(train, num_samples=64)), steps)
  np.testing.assert_array_equal(np.concatenate([b["utterance"] for b in again]), epochs[0])
  other = _take(iter(_pipeline(train, num_samples=64, seed=1)), steps)
  assert not np.array_equal(np.concatenate([b["utterance"] for b in other]), epochs[0])


def test_a_restored_iterator_continues_exactly(train):
  pipe = _pipeline(train, num_samples=64)
  iterator = iter(pipe)
  _take(iterator, 3)
  state = iterator.get_state()
  rest = _take(iterator, 4)
  resumed = iter(_pipeline(train, num_samples=64))
  resumed.set_state(state)
  for a, b in zip(rest, _take(resumed, 4)):
    for name in a:
      np.testing.assert_array_equal(a[name], b[name])


def test_processes_get_disjoint_interleaved_shards(train):
  single = _take(iter(_pipeline(train, num_samples=64)), 3)
  shards = [
    _take(iter(_pipeline(train, num_samples=64, process_index=p, process_count=2)), 3)
    for p in range(2)
  ]
  for step in range(3):
    local = [shard[step]["utterance"] for shard in shards]
    assert all(len(part) == 2 for part in local)
    np.testing.assert_array_equal(single[step]["utterance"][0::2], local[0])
    np.testing.assert_array_equal(single[step]["utterance"][1::2], local[1])


def test_evaluation_reads_every_utterance_once_and_pads(builder):
  source = builder.as_data_source("eval")
  pipe = _pipeline(source, training=False, global_batch_size=5, num_samples=64)
  batches = list(pipe)
  assert len(batches) == pipe.num_batches == -(-len(source) // 5)
  utterances = np.concatenate([b["utterance"] for b in batches])
  valid = np.concatenate([b["valid"] for b in batches])
  np.testing.assert_array_equal(utterances[valid], np.arange(len(source)))
  padding = ~valid
  assert padding.sum() == len(batches) * 5 - len(source)
  for name in ("attack", "speaker", "utterance"):
    assert (np.concatenate([b[name] for b in batches])[padding] == -1).all()
  assert not np.concatenate([b["audio"] for b in batches])[padding].any()


def test_folds_split_every_class_and_attack(train):
  table = sp.read_utterance_table(train)
  folds = sp.utterance_folds(table, 2)
  for fold in range(2):
    members = folds == fold
    assert set(table.attack[members].tolist()) == set(range(len(table.attack_names)))
  halves = [
    _pipeline(train, num_samples=64, global_batch_size=2, utterance_fold=(i, 2)) for i in range(2)
  ]
  assert not set(halves[0].selected.tolist()) & set(halves[1].selected.tolist())
  assert len(halves[0].selected) + len(halves[1].selected) == len(train)


def test_class_weights():
  assert sp.class_weights() == (9.0, 1.0)  # bona fide weighs 9, spoof 1
  assert sp.balanced_class_weights(np.array([0] * 2580 + [1] * 22800)) == pytest.approx(
    (22800 / 2580, 1.0)
  )
  with pytest.raises(ValueError, match="both classes"):
    sp.balanced_class_weights(np.ones(5, np.int32))


def test_a_plain_sequence_source_and_the_device_features():
  rng = np.random.default_rng(0)
  records = [
    {
      "audio": rng.uniform(-0.5, 0.5, n).astype(np.float32),
      "label": k % 2,
      "attack_id": "-" if k % 2 == 0 else "A01",
      "speaker": f"S{k % 3}",
      "utterance_id": f"U{k}",
    }
    for k, n in enumerate((900, 20000, 70000, 5000))
  ]
  pipe = sp.make_speech_pipeline(
    source=records, global_batch_size=2, training=False, num_threads=0, prefetch_batches=0
  )
  batches = list(pipe)
  np.testing.assert_array_equal(batches[1]["audio"][0], records[2]["audio"][:64000])
  images = jax.jit(sp.features, static_argnames=("mask",))(
    batches[0]["audio"], jax.random.key(0), mask=True
  )
  assert images.shape == (2, 60, 251, 1)


def test_bad_arguments_are_refused(train):
  with pytest.raises(ValueError, match="exceeds"):
    _pipeline(train, global_batch_size=1000)
  with pytest.raises(ValueError, match="utterance_fold"):
    _pipeline(train, utterance_fold=(2, 2))
  with pytest.raises(ValueError, match="no feature"):
    sp.make_speech_pipeline(
      source=[{"audio": np.zeros(3, np.int16)}], global_batch_size=1, training=False
    )
  with pytest.raises(ValueError, match="multiple"):
    _pipeline(train, process_count=3, process_index=0)
