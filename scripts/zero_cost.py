r"""Zero-cost proxies of random genotypes, and how well they rank trained detectors.

    python scripts/zero_cost.py --num=20 --train_subset=6 --workdir=runs/zero_cost
    python scripts/zero_cost.py --config=configs/demo.py:tiny --num=3 --train_subset=2 --epochs=1
    python scripts/zero_cost.py --trained=runs/search_vs_random/search_vs_random.json

`--num` genotypes are drawn uniformly from the search space of the config's `search`
(nas/random_search.py, `--seed`); for each, the network of the config's `c2pn` detector is
built and initialised, and grad-norm, SNIP, synflow and the NASWOT Jacobian score
(nas/zero_cost.py) are computed on one training minibatch (`--batch` frames) of the training
corpus. The first `--train_subset` genotypes are then trained and evaluated like
scripts/search_vs_random.py does (eval/genotype_trials.py), and Kendall's τ between each proxy
and the trained in-corpus / cross-corpus AUC says whether the proxy could pre-filter the random
baseline. With `--trained` (a search_vs_random.json), its genotypes — searched and random — are
scored instead and ranked against the AUCs trained there; nothing is trained. Written to
`--workdir`: zero_cost.md, zero_cost.json.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

import numpy as np
from absl import app, flags
from ml_collections import config_flags
from scipy import stats

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from fakenas_jax import cli  # noqa: E402
from fakenas_jax.data import corpus  # noqa: E402
from fakenas_jax.data import pipeline as pipeline_lib
from fakenas_jax.eval import genotype_trials, plots  # noqa: E402
from fakenas_jax.models import factory  # noqa: E402
from fakenas_jax.nas import random_search, search, zero_cost  # noqa: E402
from fakenas_jax.training import train_state  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", "configs/demo.py", "The demo's config file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/zero_cost", "Where genotypes, runs, tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Built corpora (default: <workdir>/tfds).")
_NUM = flags.DEFINE_integer("num", 20, "Random genotypes to score.")
_SEED = flags.DEFINE_integer("seed", 2000, "Seed of the random genotypes.")
_BATCH = flags.DEFINE_integer("batch", 16, "Frames of the minibatch the proxies see.")
_SUBSET = flags.DEFINE_integer("train_subset", 5, "How many of them to train (the first ones).")
_EPOCHS = flags.DEFINE_integer("epochs", 0, "Training epochs (0 = the config's).")
_TRAINED = flags.DEFINE_string(
  "trained", "", "A search_vs_random.json: score its genotypes against its trained AUCs."
)


def minibatch(config, data_dir: pathlib.Path, size: int, image_size: int) -> dict:
  builder = corpus.prepared_builder(
    config.training_corpus, str(data_dir), config.corpus_overrides.to_dict(), verbose=False
  )
  pipe = pipeline_lib.make_pipeline(
    source=corpus.split_source(builder, "train"),
    global_batch_size=size,
    image_size=image_size,
    training=True,
    seed=0,
    num_threads=1,
  )
  batch = next(iter(pipe))
  return {"image": np.asarray(batch["image"]), "label": np.asarray(batch["label"])}


def random_genotype_files(config, workdir: pathlib.Path) -> list[tuple[str, str]]:
  """`--num` genotypes drawn from the search's space, saved as genotype JSON (name, path)."""
  op_names, _ = search.search_space(config.search)
  directory = workdir / "genotypes"
  directory.mkdir(parents=True, exist_ok=True)
  files = []
  for index, genotype in enumerate(
    random_search.sample_genotypes(_SEED.value, _NUM.value, op_names)
  ):
    path = directory / f"random_{index:03d}.json"
    random_search.save_random(
      genotype, path, space=config.search.space, op_names=op_names, seed=_SEED.value, index=index
    )
    files.append((path.stem, str(path)))
  return files


def score_genotypes(config, files: list[tuple[str, str]], data_dir: pathlib.Path) -> list[dict]:
  train = config.detectors.c2pn
  batch = minibatch(config, data_dir, _BATCH.value, train.image_size)
  rows = []
  for name, path in files:
    model = factory.build_model({**train.model.to_dict(), "genotype": path})
    variables = train_state.init_variables(model, train.image_size, train.seed)
    start = time.perf_counter()
    scores = zero_cost.network_proxies(model, variables, batch)
    rows.append(
      {"name": name, "genotype_file": path, **scores, "seconds": time.perf_counter() - start}
    )
    print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()), flush=True)
  return rows


def trained_trials(path: pathlib.Path) -> list[dict]:
  """The trials of a search_vs_random.json: name, genotype file and trained AUCs."""
  keys = ("name", "genotype_file", "in_corpus_auc", "cross_corpus_auc", "params")
  try:
    trials = [{k: t[k] for k in keys} for t in json.loads(path.read_text())["trials"]]
  except (OSError, ValueError, KeyError, TypeError) as error:
    raise app.UsageError(f"--trained={path}: not a search_vs_random.json ({error!r})") from None
  missing = [t["genotype_file"] for t in trials if not pathlib.Path(t["genotype_file"]).is_file()]
  if missing:
    raise app.UsageError(f"--trained={path}: genotype files not found: {', '.join(missing[:3])}")
  return trials


def rank_correlations(rows: list[dict], metric: str) -> dict[str, float]:
  trained = [row for row in rows if metric in row and np.isfinite(row[metric])]
  out = {}
  for proxy in zero_cost.PROXIES:
    if len(trained) >= 2:
      tau = stats.kendalltau([r[proxy] for r in trained], [r[metric] for r in trained]).statistic
      out[proxy] = float(tau) if np.isfinite(tau) else float("nan")
  return out


def main(argv):
  del argv
  cli.quiet_library_logs()
  config = _CONFIG.value
  workdir = pathlib.Path(_WORKDIR.value)
  workdir.mkdir(parents=True, exist_ok=True)
  data_dir = pathlib.Path(_DATA_DIR.value or workdir / "tfds")
  train = config.detectors.c2pn
  if _TRAINED.value:
    trained = trained_trials(pathlib.Path(_TRAINED.value))
    rows = score_genotypes(config, [(t["name"], t["genotype_file"]) for t in trained], data_dir)
    for row, trial in zip(rows, trained):
      row.update({k: trial[k] for k in ("in_corpus_auc", "cross_corpus_auc", "params")})
    write_report(rows, workdir, f"{len(rows)} genotypes of {_TRAINED.value}")
    return
  rows = score_genotypes(config, random_genotype_files(config, workdir), data_dir)
  train.progress = False
  if _EPOCHS.value:
    train.epochs = _EPOCHS.value
  config.eval.samples_per_class, config.eval.progress = 0, False
  setup = genotype_trials.TrialSetup(
    train=train,
    eval=config.eval,
    train_corpora=[config.training_corpus],
    test_corpora=list(config.corpora),
    data_dir=str(data_dir),
    corpus_overrides=config.corpus_overrides.to_dict(),
  )
  for row in rows[: _SUBSET.value]:
    trial = genotype_trials.run_trial(
      row["genotype_file"], "random", setup, workdir / "trials" / row["name"]
    )
    row.update(
      in_corpus_auc=trial["in_corpus_auc"],
      cross_corpus_auc=trial["cross_corpus_auc"],
      params=trial["params"],
    )
  trained_with = (
    f"C2PN {train.model.layout}, C = {train.model.channels}, {train.epochs} epochs on "
    f"{config.training_corpus}"
  )
  write_report(rows, workdir, f"{len(rows)} random genotypes", trained_with)


def write_report(rows, workdir, what: str, trained_with: str = "") -> None:
  """zero_cost.{md,json}: Kendall τ of every proxy against the trained AUCs, and every row."""
  taus = {
    metric: rank_correlations(rows, metric) for metric in ("in_corpus_auc", "cross_corpus_auc")
  }
  trained = sum("cross_corpus_auc" in r for r in rows)
  how = f" ({trained_with})" if trained_with else ""
  table = plots.markdown_table(
    {
      r["name"]: {k: v for k, v in r.items() if k not in ("name", "genotype_file")}
      for r in sorted(rows, key=lambda r: -r["synflow"])
    },
    row_header="genotype (by synflow)",
  )
  text = (
    f"# Zero-cost proxies of {what}\n\n"
    f"Kendall τ between each proxy and the trained AUC of the {trained} trained{how}:\n\n"
    + plots.markdown_table(taus, row_header="AUC")
    + "\n## Every genotype\n\n"
    + table
  )
  (workdir / "zero_cost.md").write_text(text)
  (workdir / "zero_cost.json").write_text(json.dumps({"rows": rows, "kendall_tau": taus}, indent=2))
  print(text)


if __name__ == "__main__":
  app.run(main)
