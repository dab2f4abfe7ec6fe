"""What every entry point shares: quiet library logging unless `--verbosity` is given."""
from absl import flags, logging


def quiet_library_logs() -> None:
  """TFDS and Orbax log every file they touch at INFO; keep only errors unless asked."""
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.ERROR)
