"""ASVspoof score files: countermeasure (CM) and speaker-verification (ASV) scores as text.

CM score file, one utterance a line (the format of the ASVspoof 2019 evaluation package)::

    utterance attack key score        e.g.  LA_E_2834763 A11 spoof -4.21
                                            LA_E_1000147 - bonafide 2.07

``key`` is ``bonafide`` or ``spoof``; ``attack`` is the system id (``A01`` … ``A19``) of a spoof
and ``-`` for bona fide speech; a higher score means more bona fide. An utterance may appear on
several lines (the organisers' example score files repeat lines): as in their evaluation code,
which reads the file with ``genfromtxt`` and uses every line, each line counts; `read_cm_scores`
warns with the number of repeats (`CMScores.repeated`). Lines of one utterance that disagree on
its key or attack are refused.

ASV score files, one trial a line, ``key`` being ``target``, ``nontarget`` or ``spoof``:

* four fields, ``speaker utterance key score`` (claimed speaker, test utterance): trials are tied
  to utterances, so they are checked against the CM scores utterance by utterance;
* three fields, ``cm_key key score``, the organisers' ``ASVspoof2019.LA.asv.{dev,eval}.gi.trl.
  scores.txt``, whose first field is ``bonafide`` or the attack id of a spoof: trials are tied
  to attacks only, so they are checked against the CM scores attack by attack.

`check_asv_matches_cm` refuses an ASV file that cannot belong to the CM scores' protocol (for
instance the development ASV file with evaluation CM scores).
"""

from __future__ import annotations

import dataclasses
import pathlib
import warnings
from typing import Sequence

import numpy as np

CM_KEYS = ("bonafide", "spoof")
ASV_KEYS = ("target", "nontarget", "spoof")
BONAFIDE_ATTACKS = ("-", "bonafide")  # how bona fide speech is named in the attack column


class ScoreFileError(ValueError):
  """A score file that is malformed or does not belong to the protocol it is used with."""


class RepeatedLinesWarning(UserWarning):
  """A CM score file names some utterances on more than one line (each line is counted)."""


def _strings(values, name: str) -> np.ndarray:
  array = np.asarray(values)
  if array.ndim != 1:
    raise ScoreFileError(f"{name} must be 1-D, got shape {array.shape}")
  return np.array(
    [v.decode() if isinstance(v, bytes) else str(v) for v in array.tolist()], dtype=str
  )


def _finite_scores(values, name: str = "scores") -> np.ndarray:
  array = np.asarray(values, dtype=np.float64)
  if array.ndim != 1:
    raise ScoreFileError(f"{name} must be 1-D, got shape {array.shape}")
  if not np.isfinite(array).all():
    index = int(np.flatnonzero(~np.isfinite(array))[0])
    raise ScoreFileError(f"{name} must be finite; entry {index} is {array[index]}")
  return array


def _check_lengths(**arrays) -> None:
  lengths = {name: len(a) for name, a in arrays.items() if a is not None}
  if len(set(lengths.values())) > 1:
    raise ScoreFileError(
      "columns differ in length: " + ", ".join(f"{n} {length}" for n, length in lengths.items())
    )


def _check_keys(keys: np.ndarray, accepted: Sequence[str], what: str) -> None:
  unknown = sorted(set(keys.tolist()) - set(accepted))
  if unknown:
    raise ScoreFileError(f"{what} keys must be {' / '.join(accepted)}; found {unknown[:5]}")


@dataclasses.dataclass(frozen=True)
class CMScores:
  """Countermeasure scores, one entry per utterance (higher = more bona fide)."""

  utterances: np.ndarray
  attacks: np.ndarray
  keys: np.ndarray
  scores: np.ndarray

  def __post_init__(self):
    for name in ("utterances", "attacks", "keys"):
      object.__setattr__(self, name, _strings(getattr(self, name), name))
    object.__setattr__(self, "scores", _finite_scores(self.scores))
    _check_lengths(
      utterances=self.utterances, attacks=self.attacks, keys=self.keys, scores=self.scores
    )
    _check_keys(self.keys, CM_KEYS, "CM")
    first: dict[str, tuple[str, str]] = {}
    for utterance, attack, key in zip(
      self.utterances.tolist(), self.attacks.tolist(), self.keys.tolist()
    ):
      seen = first.setdefault(utterance, (attack, key))
      if seen != (attack, key):
        raise ScoreFileError(
          f"utterance {utterance} appears more than once with different "
          f"attack/key ({' '.join(seen)} and {attack} {key})"
        )
    unnamed = (self.keys == "spoof") & np.isin(self.attacks, BONAFIDE_ATTACKS)
    if unnamed.any():
      raise ScoreFileError(
        f"spoof utterance {self.utterances[unnamed][0]} has attack "
        f"{self.attacks[unnamed][0]!r}; a spoof needs its attack id (A01 …)"
      )

  @property
  def repeated(self) -> int:
    """Lines beyond the first of their utterance (each is counted in the metrics)."""
    return len(self.utterances) - len(np.unique(self.utterances))

  @property
  def bonafide_scores(self) -> np.ndarray:
    return self.scores[self.keys == "bonafide"]

  @property
  def spoof_scores(self) -> np.ndarray:
    return self.scores[self.keys == "spoof"]

  @property
  def spoof_attacks(self) -> np.ndarray:
    return self.attacks[self.keys == "spoof"]


@dataclasses.dataclass(frozen=True)
class ASVScores:
  """ASV trial scores (higher = more likely the claimed speaker).

  `utterances` and `speakers` are set for four-field files, `attacks` (``bonafide`` or the
  attack id) for the organisers' three-field files; the others are None.
  """

  keys: np.ndarray
  scores: np.ndarray
  utterances: np.ndarray | None = None
  speakers: np.ndarray | None = None
  attacks: np.ndarray | None = None

  def __post_init__(self):
    for name in ("keys", "utterances", "speakers", "attacks"):
      if getattr(self, name) is not None:
        object.__setattr__(self, name, _strings(getattr(self, name), name))
    object.__setattr__(self, "scores", _finite_scores(self.scores))
    _check_lengths(
      keys=self.keys,
      scores=self.scores,
      utterances=self.utterances,
      speakers=self.speakers,
      attacks=self.attacks,
    )
    _check_keys(self.keys, ASV_KEYS, "ASV")
    if self.attacks is not None:
      bonafide = np.isin(self.attacks, BONAFIDE_ATTACKS)
      contradicting = bonafide == (self.keys == "spoof")
      if contradicting.any():
        index = int(np.flatnonzero(contradicting)[0])
        raise ScoreFileError(
          f"ASV trial {index}: CM key {self.attacks[index]!r} with ASV key "
          f"{self.keys[index]!r}; bona fide trials are target/nontarget, "
          f"spoofs (named by attack id) are spoof"
        )

  def scores_of(self, key: str) -> np.ndarray:
    """Scores of the trials with ASV key `key` (target, nontarget or spoof)."""
    if key not in ASV_KEYS:
      raise ScoreFileError(f"unknown ASV key {key!r}; keys are {', '.join(ASV_KEYS)}")
    return self.scores[self.keys == key]


def _read_fields(path: pathlib.Path) -> list[tuple[int, list[str]]]:
  if not path.is_file():
    raise ScoreFileError(f"score file {path} does not exist")
  lines = [
    (number, line.split())
    for number, line in enumerate(path.read_text().splitlines(), start=1)
    if line.strip()
  ]
  if not lines:
    raise ScoreFileError(f"score file {path} has no scores")
  return lines


def _parse_score(path: pathlib.Path, number: int, text: str) -> float:
  try:
    score = float(text)
  except ValueError:
    raise ScoreFileError(f"{path}:{number}: score {text!r} is not a number") from None
  if not np.isfinite(score):
    raise ScoreFileError(f"{path}:{number}: score {text!r} is not finite")
  return score


def read_cm_scores(path: str | pathlib.Path) -> CMScores:
  """Reads a CM score file (``utterance attack key score`` lines)."""
  path = pathlib.Path(path)
  rows = []
  for number, fields in _read_fields(path):
    if len(fields) != 4:
      raise ScoreFileError(
        f"{path}:{number}: expected 4 fields 'utterance attack key score', "
        f"got {len(fields)}: {' '.join(fields)!r}"
      )
    if fields[2] not in CM_KEYS:
      raise ScoreFileError(f"{path}:{number}: key {fields[2]!r} is not bonafide or spoof")
    rows.append((*fields[:3], _parse_score(path, number, fields[3])))
  utterances, attacks, keys, scores = zip(*rows)
  try:
    table = CMScores(utterances, attacks, keys, scores)
  except ScoreFileError as error:
    raise ScoreFileError(f"{path}: {error}") from None
  if table.repeated:
    warnings.warn(
      f"{path}: {table.repeated} line(s) repeat an utterance already scored; every "
      "line is counted, as the ASVspoof organisers' evaluation code does",
      RepeatedLinesWarning,
      stacklevel=2,
    )
  return table


def write_cm_scores(
  path: str | pathlib.Path, utterances, attacks, scores, keys=None
) -> pathlib.Path:
  """Writes a CM score file; `keys` default to bonafide where the attack is '-', else spoof."""
  attacks = _strings(attacks, "attacks")
  if keys is None:
    keys = np.where(np.isin(attacks, BONAFIDE_ATTACKS), "bonafide", "spoof")
  table = CMScores(utterances, attacks, keys, scores)
  path = pathlib.Path(path)
  path.write_text(
    "".join(
      f"{u} {a} {k} {float(s)!r}\n"
      for u, a, k, s in zip(table.utterances, table.attacks, table.keys, table.scores)
    )
  )
  return path


def read_asv_scores(path: str | pathlib.Path) -> ASVScores:
  """Reads an ASV score file: ``speaker utterance key score`` or ``cm_key key score`` lines."""
  path = pathlib.Path(path)
  lines = _read_fields(path)
  width = len(lines[0][1])
  if width not in (3, 4):
    raise ScoreFileError(
      f"{path}:{lines[0][0]}: expected 'speaker utterance key score' (4 "
      f"fields) or the organisers' 'cm_key key score' (3), got {width} fields"
    )
  columns = []
  for number, fields in lines:
    if len(fields) != width:
      raise ScoreFileError(
        f"{path}:{number}: {len(fields)} fields where the file's first line has {width}"
      )
    if fields[-2] not in ASV_KEYS:
      raise ScoreFileError(
        f"{path}:{number}: key {fields[-2]!r} is not one of {', '.join(ASV_KEYS)}"
      )
    columns.append((*fields[:-1], _parse_score(path, number, fields[-1])))
  fields = list(zip(*columns))
  try:
    if width == 4:
      return ASVScores(keys=fields[2], scores=fields[3], utterances=fields[1], speakers=fields[0])
    return ASVScores(keys=fields[1], scores=fields[2], attacks=fields[0])
  except ScoreFileError as error:
    raise ScoreFileError(f"{path}: {error}") from None


def write_asv_scores(path: str | pathlib.Path, speakers, utterances, keys, scores) -> pathlib.Path:
  """Writes an ASV score file with ``speaker utterance key score`` lines."""
  table = ASVScores(keys=keys, scores=scores, utterances=utterances, speakers=speakers)
  path = pathlib.Path(path)
  path.write_text(
    "".join(
      f"{p} {u} {k} {float(s)!r}\n"
      for p, u, k, s in zip(table.speakers, table.utterances, table.keys, table.scores)
    )
  )
  return path


def _examples(values: np.ndarray, limit: int = 3) -> str:
  values = sorted(set(values.tolist()))
  return ", ".join(values[:limit]) + (
    f" and {len(values) - limit} more" if len(values) > limit else ""
  )


def check_asv_matches_cm(asv: ASVScores, cm: CMScores) -> None:
  """Raises `ScoreFileError` when the ASV scores cannot belong to the CM scores' protocol.

  Both kinds of file need target, nontarget and spoof trials. A four-field file must name only
  utterances of the CM scores, with matching keys (target/nontarget trials on bona fide
  utterances, spoof trials on spoofs). A three-field file must have spoof trials of every attack
  the CM scores contain.
  """
  missing_keys = [key for key in ASV_KEYS if not (asv.keys == key).any()]
  if missing_keys:
    raise ScoreFileError(
      f"the ASV scores have no {' / '.join(missing_keys)} trials; the t-DCF "
      f"needs target, nontarget and spoof trials"
    )
  if asv.utterances is not None:
    known = np.isin(asv.utterances, cm.utterances)
    if not known.all():
      raise ScoreFileError(
        f"{int((~known).sum())} of {known.size} ASV trials name utterances that are not in "
        f"the CM scores ({_examples(asv.utterances[~known])}): the ASV score file does not "
        f"belong to this CM protocol (e.g. a development file with evaluation scores)"
      )
    cm_key = dict(zip(cm.utterances.tolist(), cm.keys.tolist()))
    expected = np.where(asv.keys == "spoof", "spoof", "bonafide")
    actual = np.array([cm_key[u] for u in asv.utterances.tolist()])
    wrong = expected != actual
    if wrong.any():
      raise ScoreFileError(
        f"{int(wrong.sum())} ASV trials disagree with the CM keys of their utterances "
        f"({_examples(asv.utterances[wrong])}): spoof trials must be CM spoofs and "
        f"target/nontarget trials CM bona fide"
      )
  else:
    asv_attacks = asv.attacks[asv.keys == "spoof"]
    uncovered = np.setdiff1d(cm.spoof_attacks, asv_attacks)
    if uncovered.size:
      raise ScoreFileError(
        f"the CM scores contain attacks {_examples(uncovered, 5)} that the ASV score file has "
        f"no spoof trials of (it has {_examples(asv_attacks, 5)}): the ASV score file does "
        f"not belong to this CM protocol (e.g. a development file with evaluation scores)"
      )


# Score files in each challenge's submission format, and their check against a protocol.
#
# * ``asvspoof2019``: ``utterance attack key score`` (above; keys inside the file);
# * ``asvspoof2021``: ``utterance score`` a line (the LA/DF submission format, scored against
#   the organisers' ``trial_metadata.txt``);
# * ``asvspoof5``: tab-separated with the header ``filename<TAB>cm-score`` (the ASVspoof 5
#   evaluation package's CM score file, scored against its key file).

SCORE_FORMATS = ("asvspoof2019", "asvspoof2021", "asvspoof5")
ASVSPOOF5_HEADER = ("filename", "cm-score")


def _check_format(score_format: str) -> None:
  if score_format not in SCORE_FORMATS:
    raise ScoreFileError(
      f"unknown score file format {score_format!r}; formats are {', '.join(SCORE_FORMATS)}"
    )


def write_scores(path: str | pathlib.Path, cm: CMScores, score_format: str) -> pathlib.Path:
  """Writes `cm` in `score_format` (one of SCORE_FORMATS; 2021 and 5 drop keys and attacks)."""
  _check_format(score_format)
  path = pathlib.Path(path)
  if score_format == "asvspoof2019":
    return write_cm_scores(path, cm.utterances, cm.attacks, cm.scores, cm.keys)
  if score_format == "asvspoof2021":
    path.write_text("".join(f"{u} {float(s)!r}\n" for u, s in zip(cm.utterances, cm.scores)))
  else:
    path.write_text(
      "\t".join(ASVSPOOF5_HEADER)
      + "\n"
      + "".join(f"{u}\t{float(s)!r}\n" for u, s in zip(cm.utterances, cm.scores))
    )
  return path


def read_scores(path: str | pathlib.Path, score_format: str) -> tuple[np.ndarray, np.ndarray]:
  """(utterances, scores) of a score file in `score_format`, in file order."""
  _check_format(score_format)
  path = pathlib.Path(path)
  if score_format == "asvspoof2019":
    table = read_cm_scores(path)
    return table.utterances, table.scores
  lines = _read_fields(path)
  if score_format == "asvspoof5":
    number, header = lines[0]
    if tuple(header) != ASVSPOOF5_HEADER:
      raise ScoreFileError(
        f"{path}:{number}: an ASVspoof 5 score file starts with the header "
        f"'filename<TAB>cm-score', got {' '.join(header)!r}"
      )
    lines = lines[1:]
    if not lines:
      raise ScoreFileError(f"score file {path} has no scores")
  utterances, scores = [], []
  for number, fields in lines:
    if len(fields) != 2:
      raise ScoreFileError(
        f"{path}:{number}: expected 2 fields 'utterance score', got "
        f"{len(fields)}: {' '.join(fields)!r}"
      )
    utterances.append(fields[0])
    scores.append(_parse_score(path, number, fields[1]))
  utterances = np.array(utterances, dtype=str)
  unique, counts = np.unique(utterances, return_counts=True)
  if (counts > 1).any():
    raise ScoreFileError(
      f"{path}: {int((counts > 1).sum())} utterance(s) appear more than once "
      f"(e.g. {', '.join(unique[counts > 1][:3])})"
    )
  return utterances, np.array(scores, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class CMProtocol:
  """The keys of a CM protocol: attack and key per utterance, and metadata columns (codec,
  transmission, source, …) aligned with `utterances`."""

  utterances: np.ndarray
  attacks: np.ndarray
  keys: np.ndarray
  metadata: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    for name in ("utterances", "attacks", "keys"):
      object.__setattr__(self, name, _strings(getattr(self, name), name))
    _check_lengths(utterances=self.utterances, attacks=self.attacks, keys=self.keys)
    _check_keys(self.keys, CM_KEYS, "CM")
    object.__setattr__(
      self, "metadata", {name: _strings(column, name) for name, column in self.metadata.items()}
    )
    _check_lengths(utterances=self.utterances, **self.metadata)


def match_protocol(
  utterances, scores, protocol: CMProtocol, *, source: str = "the scores"
) -> CMScores:
  """CM scores of `protocol`'s utterances (in protocol order) from scored `utterances`.

  Raises:
    ScoreFileError: utterances of the protocol without a score or scored utterances that are
      not in the protocol; the message names the first few of each.
  """
  utterances = _strings(utterances, "utterances")
  scores = _finite_scores(scores)
  _check_lengths(utterances=utterances, scores=scores)
  missing = np.setdiff1d(protocol.utterances, utterances)
  extra = np.setdiff1d(utterances, protocol.utterances)
  if missing.size or extra.size:
    parts = []
    if missing.size:
      parts.append(
        f"{missing.size} utterance(s) of the protocol have no score ({_examples(missing, 5)})"
      )
    if extra.size:
      parts.append(
        f"{extra.size} scored utterance(s) are not in the protocol ({_examples(extra, 5)})"
      )
    raise ScoreFileError(f"{source} do not match the protocol: {'; '.join(parts)}")
  by_utterance = dict(zip(utterances.tolist(), scores.tolist()))
  return CMScores(
    protocol.utterances,
    protocol.attacks,
    protocol.keys,
    [by_utterance[u] for u in protocol.utterances.tolist()],
  )


def read_scores_for_protocol(
  path: str | pathlib.Path, score_format: str, protocol: CMProtocol
) -> CMScores:
  """A score file in `score_format` joined with `protocol`'s keys (errors as `match_protocol`)."""
  utterances, scores = read_scores(path, score_format)
  return match_protocol(utterances, scores, protocol, source=f"the scores of {path}")
