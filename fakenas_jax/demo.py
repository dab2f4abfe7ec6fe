"""The main job on the built-in synthetic corpus, end to end, on any machine.

    python -m fakenas_jax.demo --workdir=runs/demo      # what `make demo` runs

It builds the four synthetic corpora (`synthetic_faces/{studio,celeb,wild,graphics}`) into
`<workdir>/tfds` and writes, per corpus, a contact sheet (frames with landmarks and masks) and
statistics into `<workdir>/corpus/`. Re-running reuses what is already built.
"""
from __future__ import annotations

import pathlib

from absl import app, flags

from fakenas_jax import cli
from fakenas_jax.data import corpora, corpus_report, preparation

_WORKDIR = flags.DEFINE_string("workdir", "runs/demo", "Where the demo writes everything.")
_CORPORA = flags.DEFINE_list(
    "corpora", ["synthetic_faces/studio", "synthetic_faces/celeb", "synthetic_faces/wild",
                "synthetic_faces/graphics"], "Corpora to build and show.")


def run_demo(workdir: str | pathlib.Path, specs: list[str]) -> dict[str, dict]:
  """Builds `specs` and writes their reports; returns the report paths per corpus."""
  workdir = pathlib.Path(workdir)
  data_dir = workdir / "tfds"
  results = {}
  for spec in specs:
    summary = preparation.prepare(spec, data_dir)
    print(summary.render(), flush=True)
    builder = corpora.load_builder(spec, str(data_dir))
    paths = corpus_report.write_report(builder, workdir / "corpus")
    results[spec] = {"summary": summary, "paths": paths}
    print(f"  contact sheet: {paths['contact_sheet']}\n  statistics:    {paths['statistics_md']}",
          flush=True)
  return results


def main(argv):
  del argv
  cli.quiet_library_logs()
  run_demo(_WORKDIR.value, _CORPORA.value)


if __name__ == "__main__":
  app.run(main)
