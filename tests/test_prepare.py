"""`prepare` and `python -m fakenas_jax.prepare`: building, re-running, bad input, interruption."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from fakenas_jax.data import corpora, overrides, preparation

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run_prepare(*args, **kwargs):
  return subprocess.run(
    [sys.executable, "-m", "fakenas_jax.prepare", *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
    **kwargs,
  )


def test_summary_counts_examples_per_split_and_class(tiny_corpus, tiny_builder):
  spec, data_dir, tiny = tiny_corpus
  summary = preparation.prepare(spec, data_dir, overrides=tiny)
  assert summary.already_prepared
  config = tiny_builder.builder_config
  videos_per_identity = config.real_videos_per_identity + config.fake_videos_per_identity
  for split, identities in zip(("train", "validation", "test"), config.identities):
    counts = summary.splits[split]
    assert counts.videos == identities * videos_per_identity
    assert counts.real == identities * config.real_videos_per_identity * config.frames_per_video
    assert counts.fake == identities * config.fake_videos_per_identity * config.frames_per_video
    assert counts.examples == counts.real + counts.fake
  assert summary.skipped == []
  assert "nothing skipped" in summary.render()


def test_rerun_on_a_complete_build_does_nothing(tiny_corpus, tiny_builder):
  spec, data_dir, tiny = tiny_corpus
  files = sorted(pathlib.Path(tiny_builder.data_dir).iterdir())
  stamps = [f.stat().st_mtime_ns for f in files]
  summary = preparation.prepare(spec, data_dir, overrides=tiny)
  assert summary.already_prepared
  assert sorted(pathlib.Path(tiny_builder.data_dir).iterdir()) == files
  assert [f.stat().st_mtime_ns for f in files] == stamps


def test_unknown_dataset_lists_the_known_ones():
  with pytest.raises(corpora.UnknownCorpusError, match="synthetic_faces"):
    corpora.load_builder("no_such_corpus", "/tmp")


def test_unknown_config_lists_the_known_ones():
  with pytest.raises(corpora.UnknownCorpusError, match="studio.*celeb.*wild.*graphics"):
    corpora.load_builder("synthetic_faces/no_such_config", "/tmp")


def test_unknown_override_field_is_refused():
  with pytest.raises(corpora.UnknownCorpusError, match="no_such_field"):
    corpora.resolve_config("synthetic_faces/wild", no_such_field=1)


def test_overrides_parse_after_the_field_types():
  config = corpora.resolve_config("synthetic_faces/wild")
  parsed = overrides.parse(["resolution=128", "identities=5,2,2", "recipe=celeb"], config)
  assert parsed == {"resolution": 128, "identities": (5, 2, 2), "recipe": "celeb"}
  with pytest.raises(overrides.OverrideError, match="resolution"):
    overrides.parse(["resolution=big"], config)
  with pytest.raises(overrides.OverrideError, match="KEY=VALUE"):
    overrides.parse(["resolution"], config)


def test_overridden_configs_are_stored_apart():
  a = corpora.resolve_config("synthetic_faces/studio", resolution=48)
  b = corpora.resolve_config("synthetic_faces/studio", resolution=40)
  assert a.name != b.name != "studio" and a.name.startswith("studio_")


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a directory")
  with pytest.raises(preparation.DataDirError, match="not writable"):
    preparation.prepare("synthetic_faces/studio", blocker / "tfds")


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
  result = _run_prepare("--dataset=nope", f"--data_dir={tmp_path}")
  assert result.returncode == 2
  assert "Known datasets:" in result.stderr and "synthetic_faces" in result.stderr
  assert "Traceback" not in result.stderr
  result = _run_prepare(
    "--dataset=synthetic_faces/studio", f"--data_dir={tmp_path}", "--override=resolutoin=40"
  )
  assert result.returncode == 2 and "resolution" in result.stderr
  listing = _run_prepare("--list")
  assert (
    listing.returncode == 0 and "synthetic_faces: studio, celeb, wild, graphics" in listing.stdout
  )


def test_cli_builds_and_summarises(tmp_path):
  result = _run_prepare(
    "--dataset=synthetic_faces/graphics",
    f"--data_dir={tmp_path}",
    "--override=identities=2,2,2",
    "--override=frames_per_video=2",
    "--override=resolution=32",
    "--override=real_videos_per_identity=1",
    "--override=fake_videos_per_identity=1",
  )
  assert result.returncode == 0, result.stderr[-2000:]
  assert "train" in result.stdout and "nothing skipped" in result.stdout
  again = _run_prepare(
    "--dataset=synthetic_faces/graphics",
    f"--data_dir={tmp_path}",
    "--override=identities=2,2,2",
    "--override=frames_per_video=2",
    "--override=resolution=32",
    "--override=real_videos_per_identity=1",
    "--override=fake_videos_per_identity=1",
  )
  assert "already prepared" in again.stdout


def test_an_interrupted_build_never_reads_as_complete(tmp_path):
  args = [
    "--dataset=synthetic_faces/wild",
    f"--data_dir={tmp_path}",
    "--override=identities=12,2,2",
    "--override=frames_per_video=4",
  ]
  process = subprocess.Popen(
    [sys.executable, "-m", "fakenas_jax.prepare", *args],
    cwd=ROOT,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
    start_new_session=True,
  )
  deadline = time.time() + 120
  while time.time() < deadline and not list(tmp_path.glob("synthetic_faces/*/incomplete*")):
    time.sleep(0.05)
  assert list(tmp_path.glob("synthetic_faces/*/incomplete*")), "the build never started"
  time.sleep(0.3)
  os.killpg(process.pid, signal.SIGKILL)
  process.wait()
  config = overrides.parse(
    [arg.split("=", 1)[1] for arg in args[2:]], corpora.resolve_config("synthetic_faces/wild")
  )
  builder = corpora.load_builder("synthetic_faces/wild", str(tmp_path), **config)
  assert not builder.is_prepared()
  left = list(tmp_path.glob("synthetic_faces/*/incomplete*"))
  assert left  # what the killed build left behind
  summary = preparation.prepare("synthetic_faces/wild", tmp_path, overrides=config)
  assert not summary.already_prepared and builder.is_prepared()
  assert summary.splits["train"].examples == 12 * 4 * 4
  assert not any(path.exists() for path in left)  # removed under the build lock


# ---- Faults: damaged builds, full disks, two builds at once.

SMALL = [
  "--override=identities=2,2,2",
  "--override=frames_per_video=2",
  "--override=resolution=32",
  "--override=real_videos_per_identity=1",
  "--override=fake_videos_per_identity=1",
]


def _small_overrides():
  return overrides.parse(
    [arg.split("=", 1)[1] for arg in SMALL], corpora.resolve_config("synthetic_faces/studio")
  )


def _decoded(builder):
  """Every decoded example of every split, in order (arrays as bytes)."""
  out = {}
  for split in builder.info.splits:
    source = builder.as_data_source(split)
    out[split] = [
      {k: (v.tobytes() if hasattr(v, "tobytes") else v) for k, v in source[i].items()}
      for i in range(len(source))
    ]
  return out


def test_a_damaged_build_names_the_file_and_is_rebuilt(tmp_path):
  from fakenas_jax.data import integrity, pipeline

  config = _small_overrides()
  preparation.prepare(
    "synthetic_faces/studio", tmp_path, overrides=config, builder_kwargs={"num_workers": 1}
  )
  builder = corpora.load_builder("synthetic_faces/studio", str(tmp_path), **config)
  before = _decoded(builder)
  damaged = next(pathlib.Path(builder.data_dir).glob("*-train.array_record-*"))
  original_bytes = damaged.read_bytes()
  data = bytearray(original_bytes)
  data[len(data) // 2] ^= 0xFF
  damaged.write_bytes(bytes(data))
  assert integrity.damaged_files(builder.data_dir) == [
    (str(damaged), integrity.check_file(damaged))
  ]
  # Reading it for training: the pipeline's reader names the file and the command.
  reader = pipeline.RecordReader(builder.as_data_source("train"))
  with pytest.raises(integrity.CorruptCorpusError) as error:
    reader.read_range(0, len(reader), ["label"])
  message = str(error.value)
  assert str(damaged) in message and "\n" not in message
  assert "--dataset=synthetic_faces/studio " in message and "--rebuild" in message
  assert all(flag in message for flag in SMALL)
  # `prepare` on the damaged build: one line, exit 2, the rebuild command.
  result = _run_prepare("--dataset=synthetic_faces/studio", f"--data_dir={tmp_path}", *SMALL)
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert str(damaged) in result.stderr and "--rebuild" in result.stderr
  # The command it names rebuilds it; the decoded examples are those of the first build.
  command = message.split("rebuild the corpus: ", 1)[1].split()
  assert command[:3] == ["python", "-m", "fakenas_jax.prepare"]
  rebuilt = _run_prepare(*command[3:])
  assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
  assert "built in" in rebuilt.stdout
  builder = corpora.load_builder("synthetic_faces/studio", str(tmp_path), **config)
  assert integrity.damaged_files(builder.data_dir) == []
  assert _decoded(builder) == before


@pytest.mark.parametrize("kind", ["OSError", "array_record"])
def test_a_full_disk_is_one_line_and_the_next_run_builds(tmp_path, monkeypatch, capsys, kind):
  """The failure at the write call: an OSError, or what array_record's C++ writer raises (a
  RuntimeError whose text names the errno and the file)."""
  import errno

  from tensorflow_datasets.core import file_adapters

  config = _small_overrides()
  calls = []

  def full_disk(cls, path, iterator):
    calls.append(path)
    if kind == "OSError":
      raise OSError(errno.ENOSPC, "No space left on device", str(path))
    raise RuntimeError(
      f"open() failed: No space left on device; opening {path}; Failed to create the file header"
    )

  monkeypatch.setattr(
    file_adapters.ArrayRecordFileAdapter, "write_examples", classmethod(full_disk)
  )
  with pytest.raises(preparation.DataDirError) as error:
    preparation.prepare(
      "synthetic_faces/studio", tmp_path, overrides=config, builder_kwargs={"num_workers": 1}
    )
  message = str(error.value)
  assert calls and message.startswith("no space left on the device while writing ")
  assert str(calls[0]) in message and "free there" in message and "\n" not in message
  assert "run the same command again" in message
  monkeypatch.undo()
  summary = preparation.prepare(
    "synthetic_faces/studio", tmp_path, overrides=config, builder_kwargs={"num_workers": 1}
  )
  assert not summary.already_prepared and summary.splits["train"].examples == 8
  assert not list(tmp_path.glob("synthetic_faces/*/incomplete*"))
  assert "Downloading and preparing" not in capsys.readouterr().out  # no TFDS download noise


def test_describe_os_error_says_what_to_do():
  import errno

  from fakenas_jax import storage

  for code, words in (
    (errno.ENOSPC, "no space left"),
    (errno.EACCES, "permission denied"),
    (errno.EROFS, "read-only file system"),
  ):
    text = storage.describe_os_error(
      OSError(code, os.strerror(code), "/x/y.bin"), action="re-run it"
    )
    assert words in text and "/x/y.bin" in text and text.endswith("re-run it")


def test_one_build_of_a_config_at_a_time(tmp_path):
  config = _small_overrides()
  builder = corpora.load_builder("synthetic_faces/studio", str(tmp_path), **config)
  with preparation.build_lock(pathlib.Path(builder.data_dir).parent):
    with pytest.raises(preparation.DataDirError, match=r"being built by pid \d+ on"):
      preparation.prepare("synthetic_faces/studio", tmp_path, overrides=config)
