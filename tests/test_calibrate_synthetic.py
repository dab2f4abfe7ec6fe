"""scripts/calibrate_synthetic.py refuses a corpus it does not know before it trains anything."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_unknown_corpus_is_refused_before_training(tmp_path):
  result = subprocess.run(
    [
      sys.executable,
      "scripts/calibrate_synthetic.py",
      "--models=meso4",
      "--corpora=wild,dfdc",
      f"--workdir={tmp_path}",
    ],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
  )
  assert result.returncode != 0
  assert "Unknown corpora ['dfdc']" in result.stderr + result.stdout
  assert "studio, celeb, wild, graphics" in result.stderr + result.stdout
  assert not (tmp_path / "meso4").exists() and not (tmp_path / "calibration.md").exists()
