"""The errors a person can act on, shared by every package (WORKSPACE.md, Entry points).

The entry-point layer (`cli.run`) prints a `UserError` as one line, `error: …`, with exit code 2
and no traceback; `Interrupted` exits 143 after the run's checkpoint is written.
"""


class UserError(Exception):
  """A mistake or a state the user can fix: the message says what happened and what to do."""


class NonFiniteLossError(UserError, FloatingPointError):
  """A loss became NaN or infinite; the message says which checkpoint is kept."""


class Interrupted(Exception):
  """SIGTERM arrived; the run wrote a checkpoint and stopped. Re-run the command to resume."""
