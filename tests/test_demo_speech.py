"""The speech demo's pipeline at its tiny configuration: corpus → search → train → evaluate."""

import json

import jax
import numpy as np

from configs import demo as demo_config
from fakenas_jax import demo


def test_the_speech_demo_runs_end_to_end(tmp_path):
  config = demo_config.get_config("speech_tiny")
  result = demo.run_demo(config, tmp_path, devices=jax.devices()[:1])
  assert (tmp_path / "search" / "genotype.json").is_file()
  reports = result["reports"]
  assert set(reports) == {"pcdarts", "lcnn"}
  assert reports["lcnn"]["parameters"] == 269_729
  assert 0 < reports["pcdarts"]["parameters"] < reports["lcnn"]["parameters"]
  for name, report in reports.items():
    saved = json.loads((tmp_path / "eval" / name / "speech_report.json").read_text())
    assert saved["eer"] == report["eer"] and np.isfinite(saved["min_dcf"])
    assert set(saved["per_attack_eer"]) == {f"A{i:02d}" for i in range(7, 13)}
  text = result["paths"]["markdown"].read_text()
  assert "![det.png](det.png)" in text and "EER per attack" in text and "A07" in text
  assert "The architecture learned" in text or "did NOT learn" in text
  assert "softmax(α) went 1.386 → " in text  # ln 4: the tiny search's four operations
  assert result["paths"]["det"].stat().st_size > 1000
  assert set(result["timings"]) == {"corpus", "search", "train pcdarts", "train lcnn", "evaluate"}
