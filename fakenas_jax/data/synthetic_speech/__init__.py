"""The built-in synthetic spoofing corpus: source-filter speech and vocoder-artifact spoofs (numpy).

    from fakenas_jax.data import synthetic_speech as ss
    audio = ss.generate_utterance(ss.make_speaker(3), attack_id="A07", seed=(0, 2, 3, 7, 0))

Modules, one concept each: `speakers` (voices), `phonetics` (the phone inventory), `plan` (what
an utterance says and how: control tracks), `source` (glottal pulses, impulse train),
`vocal_tract` (time-varying formant cascade), `render` (source-filter synthesis, the recording
channel), `attacks` (the artifact families and the A01–A12 table), `utterance`
(`generate_utterance`: one seeded utterance, bona fide or spoofed).
"""

from fakenas_jax.data.synthetic_speech.attacks import (
  ATTACKS,
  FAMILIES,
  SPLIT_ATTACKS,
  Attack,
  Step,
  band_limit,
  concatenate,
  random_phase,
  smooth_envelope,
  synthesize_spoof,
)
from fakenas_jax.data.synthetic_speech.plan import (
  FRAME_SAMPLES,
  SAMPLE_RATE,
  UtterancePlan,
  plan_utterance,
)
from fakenas_jax.data.synthetic_speech.render import record, synthesize
from fakenas_jax.data.synthetic_speech.speakers import Speaker, make_speaker, speaker_name
from fakenas_jax.data.synthetic_speech.utterance import BONAFIDE, generate_utterance

__all__ = [
  "ATTACKS",
  "Attack",
  "BONAFIDE",
  "FAMILIES",
  "FRAME_SAMPLES",
  "SAMPLE_RATE",
  "SPLIT_ATTACKS",
  "Speaker",
  "Step",
  "UtterancePlan",
  "band_limit",
  "concatenate",
  "generate_utterance",
  "make_speaker",
  "plan_utterance",
  "random_phase",
  "record",
  "smooth_envelope",
  "speaker_name",
  "synthesize",
  "synthesize_spoof",
]
