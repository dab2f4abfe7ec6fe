"""The phone inventory of the synthetic speech: formant targets, voicing, frication, durations.

Vowel formants F1–F3 are the classic averages of adult male American-English vowels (Peterson
& Barney 1952); F4 and F5 are fixed at 3,300 and 4,200 Hz. A speaker's `formant_scale`
multiplies all of them (shorter vocal tracts, higher formants). Fricatives and stop bursts are
noise through a fixed band-pass (`FRICATION_BANDS`); nasals are weak voiced sounds with low F1.
"""

from __future__ import annotations

import dataclasses

UPPER_FORMANTS = (3300.0, 4200.0)
BANDWIDTHS = (80.0, 100.0, 150.0, 250.0, 300.0)  # Hz, F1..F5

# Band-pass edges (Hz) of the frication noise sources.
FRICATION_BANDS = {
  "s": (4000.0, 7600.0),
  "sh": (2200.0, 5200.0),
  "f": (1200.0, 7600.0),
  "burst": (500.0, 7000.0),
}


@dataclasses.dataclass(frozen=True)
class Phone:
  """One sound class. `formants` (F1, F2, F3) at formant scale 1; None takes the neighbours'."""

  name: str
  kind: str  # 'vowel', 'nasal', 'fricative', 'stop', 'pause'
  formants: tuple[float, float, float] | None
  voicing: float  # amplitude of the glottal source (0 = unvoiced)
  frication: str | None  # a FRICATION_BANDS key
  frication_level: float  # linear, relative to the speaker's frication level
  loudness: float  # linear amplitude of the voiced part relative to a stressed vowel
  duration_ms: tuple[float, float]  # uniform range at speaking rate 1


VOWELS = (
  Phone("a", "vowel", (730, 1090, 2440), 1.0, None, 0.0, 1.0, (90, 220)),
  Phone("i", "vowel", (270, 2290, 3010), 1.0, None, 0.0, 0.8, (70, 180)),
  Phone("u", "vowel", (300, 870, 2240), 1.0, None, 0.0, 0.8, (70, 180)),
  Phone("e", "vowel", (530, 1840, 2480), 1.0, None, 0.0, 0.9, (80, 200)),
  Phone("o", "vowel", (570, 840, 2410), 1.0, None, 0.0, 0.95, (90, 210)),
  Phone("ae", "vowel", (660, 1720, 2410), 1.0, None, 0.0, 1.0, (90, 220)),
  Phone("er", "vowel", (490, 1350, 1690), 1.0, None, 0.0, 0.85, (80, 190)),
)

CONSONANTS = (
  Phone("m", "nasal", (280, 1000, 2300), 1.0, None, 0.0, 0.3, (50, 100)),
  Phone("n", "nasal", (280, 1400, 2500), 1.0, None, 0.0, 0.3, (50, 100)),
  Phone("s", "fricative", None, 0.0, "s", 1.0, 0.0, (70, 160)),
  Phone("sh", "fricative", None, 0.0, "sh", 0.9, 0.0, (70, 150)),
  Phone("f", "fricative", None, 0.0, "f", 0.45, 0.0, (60, 130)),
  Phone("z", "fricative", None, 0.35, "s", 0.6, 0.25, (60, 130)),
  Phone("t", "stop", None, 0.0, "burst", 0.8, 0.0, (50, 90)),
  Phone("k", "stop", None, 0.0, "burst", 0.7, 0.0, (55, 100)),
)

PAUSE = Phone("pause", "pause", None, 0.0, None, 0.0, 0.0, (60, 200))
STOP_BURST_MS = (8.0, 18.0)  # the burst at the end of a stop's closure
