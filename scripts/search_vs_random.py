r"""Searched cells against random cells of the same space, network, budget and data.

    python scripts/search_vs_random.py --searched=runs/seeds --num_random=5 --workdir=runs/svr
    python scripts/search_vs_random.py --searched=runs/s0/genotype.json,runs/s1/genotype.json \
        --random=runs/random --train_corpora=studio --epochs=6
    python scripts/search_vs_random.py --config=configs/demo.py:tiny --searched=... --num_random=2
    python scripts/search_vs_random.py --searched=runs/seeds --train_seeds=0,1 --workdir=runs/svr

The network, its training and the evaluation are the demo's (`--config`, configs/demo.py: the
`c2pn` detector, its evaluation config and corpora); `--epochs` overrides the training budget.
Every genotype — each searched one (`--searched`: genotype JSON files, search directories, or
directories of `seed_*` runs) and each random one (`--random`: a directory written by
`--config=configs/search/random.py`, or `--num_random` drawn here from the search space of the
config's `search` with `--random_seed`) — is trained on every `--train_corpora` and evaluated on
every `--test_corpora` (eval/genotype_trials.py), once per `--train_seeds` (AUCs averaged over
the seeds; the table adds the spread between them, the training noise). Written to `--workdir`: `search_vs_random.md`
(mean ± std per group, every genotype, a one-line verdict), `search_vs_random.json`,
`search_vs_random.png`. Re-running resumes every training run, so the random baseline can be
trained first (no `--searched`) while the searches run, and compared once they are done.
"""

from __future__ import annotations

import json
import pathlib
import sys

from absl import app, flags
from ml_collections import config_flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from fakenas_jax import cli  # noqa: E402
from fakenas_jax.eval import genotype_trials  # noqa: E402
from fakenas_jax.nas import random_search, search  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", "configs/demo.py", "The demo's config file.")
_WORKDIR = flags.DEFINE_string("workdir", "runs/search_vs_random", "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Built corpora (default: <workdir>/tfds).")
_SEARCHED = flags.DEFINE_list("searched", [], "Searched genotype JSON files or search dirs.")
_RANDOM = flags.DEFINE_string("random", "", "A directory of random_*/genotype.json.")
_NUM_RANDOM = flags.DEFINE_integer(
  "num_random", 5, "Random genotypes drawn here when --random is empty."
)
_RANDOM_SEED = flags.DEFINE_integer("random_seed", 1000, "Seed of the random genotypes drawn here.")
_TRAIN = flags.DEFINE_list(
  "train_corpora", [], "Training corpora by name (default: the config's training corpus)."
)
_TEST = flags.DEFINE_list("test_corpora", [], "Test corpora by name (default: all the config's).")
_EPOCHS = flags.DEFINE_integer("epochs", 0, "Training epochs (0 = the config's).")
_TRAIN_SEEDS = flags.DEFINE_list(
  "train_seeds", [], "Training seeds per genotype (default: the training config's seed)."
)
_DETECTOR = flags.DEFINE_string("detector", "c2pn", "The config's detector built from genotypes.")


def searched_genotype_files(entries) -> list[pathlib.Path]:
  """Genotype files of `--searched`: files, search dirs, or dirs of seed_* runs."""
  files = []
  for entry in entries:
    path = pathlib.Path(entry)
    if path.is_file():
      files.append(path)
    elif (path / "genotype.json").is_file():
      files.append(path / "genotype.json")
    elif sorted(path.glob("seed_*/genotype.json")):
      files += sorted(path.glob("seed_*/genotype.json"))
    else:
      raise app.UsageError(
        f"--searched: {entry} is neither a genotype file nor a directory "
        f"holding genotype.json or seed_*/genotype.json"
      )
  return files


def random_genotype_files(config, workdir: pathlib.Path) -> list[pathlib.Path]:
  if _RANDOM.value:
    files = sorted(pathlib.Path(_RANDOM.value).glob("**/random_*/genotype.json"))
    if not files:
      raise app.UsageError(f"--random: no random_*/genotype.json under {_RANDOM.value}")
    return files
  op_names, _ = search.search_space(config.search)
  directory = workdir / "random_genotypes"
  directory.mkdir(parents=True, exist_ok=True)
  files = []
  for index, genotype in enumerate(
    random_search.sample_genotypes(_RANDOM_SEED.value, _NUM_RANDOM.value, op_names)
  ):
    path = directory / f"random_{index:03d}.json"
    random_search.save_random(
      genotype,
      path,
      space=config.search.space,
      op_names=op_names,
      seed=_RANDOM_SEED.value,
      index=index,
    )
    files.append(path)
  return files


def resolve_corpora(config, names, default):
  known = {spec.split("/")[-1]: spec for spec in config.corpora}
  unknown = [name for name in names if name not in known and name not in known.values()]
  if unknown:
    raise app.UsageError(f"Unknown corpora {unknown}; known: {', '.join(known)}")
  return [known.get(name, name) for name in names] or list(default)


def compare(
  config,
  workdir: pathlib.Path,
  data_dir: pathlib.Path,
  searched,
  random_files,
  train_corpora,
  test_corpora,
  epochs: int = 0,
  detector: str = "c2pn",
  devices=None,
  train_seeds=(),
) -> dict:
  """Runs every trial; writes the markdown, JSON and plot; returns the summary and verdict."""
  train = config.detectors[detector]
  train.progress = False
  if epochs:
    train.epochs = epochs
  eval_config = config.eval
  eval_config.samples_per_class, eval_config.progress = 0, False
  setup = genotype_trials.TrialSetup(
    train=train,
    eval=eval_config,
    train_corpora=train_corpora,
    test_corpora=test_corpora,
    data_dir=str(data_dir),
    corpus_overrides=config.corpus_overrides.to_dict(),
    devices=devices,
    seeds=tuple(int(seed) for seed in train_seeds),
  )
  trials = []
  for group, files in (("searched", searched), ("random", random_files)):
    for index, path in enumerate(files):
      print(
        f"[{len(trials) + 1}/{len(searched) + len(random_files)}] {group} {index}: {path}",
        flush=True,
      )
      trials.append(
        genotype_trials.run_trial(path, group, setup, workdir / "trials" / f"{group}_{index:03d}")
      )
  summary = genotype_trials.summarize(trials)
  text = (
    f"# Searched vs random cells\n\nNetwork `{detector}` ({train.model.layout}, C = "
    f"{train.model.channels}), {train.epochs} epochs, training seeds "
    f"{', '.join(map(str, setup.seeds or [train.seed]))}; trained on "
    f"{', '.join(train_corpora)}; tested on {', '.join(test_corpora)}.\n\n"
    + genotype_trials.to_markdown(trials, summary)
  )
  (workdir / "search_vs_random.md").write_text(text)
  (workdir / "search_vs_random.json").write_text(
    json.dumps(
      {"summary": summary, "verdict": genotype_trials.verdict(summary), "trials": trials}, indent=2
    )
  )
  genotype_trials.save_plot(trials, workdir / "search_vs_random.png")
  return {
    "summary": summary,
    "verdict": genotype_trials.verdict(summary),
    "trials": trials,
    "markdown": text,
  }


def main(argv):
  del argv
  cli.quiet_library_logs()
  config = _CONFIG.value
  workdir = pathlib.Path(_WORKDIR.value)
  workdir.mkdir(parents=True, exist_ok=True)
  searched = searched_genotype_files(_SEARCHED.value)
  if not searched:  # the random baseline alone; a later run with --searched resumes it
    print("--searched is empty: training the random genotypes only", flush=True)
  train_corpora = resolve_corpora(config, _TRAIN.value, [config.training_corpus])
  test_corpora = resolve_corpora(config, _TEST.value, config.corpora)
  result = compare(
    config,
    workdir,
    pathlib.Path(_DATA_DIR.value or workdir / "tfds"),
    searched,
    random_genotype_files(config, workdir),
    train_corpora,
    test_corpora,
    _EPOCHS.value,
    _DETECTOR.value,
    train_seeds=_TRAIN_SEEDS.value,
  )
  print(result["markdown"])


if __name__ == "__main__":
  app.run(main)
