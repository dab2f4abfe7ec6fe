"""Progress a person can read (`run.progress`): lines, not carriage returns, off a terminal."""

import io

from fakenas_jax import errors
from fakenas_jax.run import progress


def test_off_a_terminal_a_line_every_quarter_epoch_with_the_run_eta():
  stream = io.StringIO()
  bar = progress.Progress(epochs=2, steps_per_epoch=8, done_steps=0, enabled=True, stream=stream)
  with bar.compiling("the search step"):
    pass
  bar.start_epoch(0, 0)
  for step in range(1, 9):
    bar.step_done(step, timed=step > 1)
    bar.update(step, {"loss": 0.5})
  bar.end_epoch()
  text = stream.getvalue()
  assert "\r" not in text
  lines = text.splitlines()
  assert lines[0] == "compiling the search step…" and lines[1].startswith(
    "compiled the search step in"
  )
  steps = [line for line in lines if line.startswith("epoch 1/2 step")]
  assert [line.split()[3].rstrip(",") for line in steps] == ["2/8", "4/8", "6/8", "8/8"]
  assert all("loss 0.500" in line and "run ETA" in line for line in steps[1:])


def test_disabled_progress_prints_nothing():
  stream = io.StringIO()
  bar = progress.Progress(epochs=1, steps_per_epoch=4, done_steps=0, enabled=False, stream=stream)
  with bar.compiling("x"):
    pass
  bar.start_epoch(0, 0)
  bar.update(4, {"loss": 1.0})
  assert stream.getvalue() == ""


def test_seconds_read_as_people_say_them():
  assert progress.format_seconds(42.4) == "42 s"
  assert progress.format_seconds(185) == "3 min 05 s"
  assert progress.format_seconds(7620) == "2 h 07 min"


def test_a_non_finite_loss_is_an_error_of_the_users_making():
  """The entry points print it as one line with exit code 2 (tests/test_cli.py)."""
  assert issubclass(errors.NonFiniteLossError, errors.UserError)
