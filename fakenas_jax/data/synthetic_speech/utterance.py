"""One utterance of the synthetic spoofing corpus, bona fide or spoofed, from a seed.

    audio = generate_utterance(make_speaker(3), attack_id="A02", seed=(0, 1, 3, 7))

The seed determines everything (`np.random.default_rng(seed)`): the duration, what is said, the
voice's perturbations, the attack's random choices and the recording channel. A spoof is a new
utterance of the target speaker (as text-to-speech or voice conversion produce), not a copy of a
bona fide one. Bona fide and spoofed utterances go through the same recording channel
(`render.record`), so the channel is no cue; only the attack's artifacts are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fakenas_jax.data.synthetic_speech import attacks as attacks_lib
from fakenas_jax.data.synthetic_speech import render as render_lib
from fakenas_jax.data.synthetic_speech.plan import plan_utterance
from fakenas_jax.data.synthetic_speech.speakers import Speaker

BONAFIDE = "-"  # the attack id of bona fide speech, as in the ASVspoof protocols


def generate_utterance(
  speaker: Speaker,
  attack_id: str,
  seed: Sequence[int],
  *,
  seconds: tuple[float, float] = (1.0, 4.0),
) -> np.ndarray:
  """float32 waveform in [-1, 1] at 16 kHz, `seconds[0]`–`seconds[1]` long (uniform)."""
  low, high = seconds
  if not 0.2 <= low <= high:
    raise ValueError(f"seconds must be (low, high) with 0.2 <= low <= high, got {seconds}")
  if attack_id != BONAFIDE and attack_id not in attacks_lib.ATTACKS:
    raise ValueError(
      f"unknown attack {attack_id!r}; known: {BONAFIDE!r} (bona fide), "
      f"{', '.join(attacks_lib.ATTACKS)}"
    )
  rng = np.random.default_rng(tuple(int(s) for s in seed))
  plan = plan_utterance(speaker, rng, rng.uniform(low, high))
  if attack_id == BONAFIDE:
    clean = render_lib.synthesize(plan, speaker, rng)
  else:
    clean = attacks_lib.synthesize_spoof(attacks_lib.ATTACKS[attack_id], plan, speaker, rng)
  return render_lib.record(clean, rng).astype(np.float32)
