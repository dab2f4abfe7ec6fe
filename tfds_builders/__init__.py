"""TFDS builders, one package per corpus. Importing a package registers its builder."""
