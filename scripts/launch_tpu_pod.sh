#!/usr/bin/env bash
# One multi-host search on a Cloud TPU pod slice: the same command on every worker.
#
#   scripts/launch_tpu_pod.sh my-tpu us-central2-b \
#       --config=configs/search/fdnas_paper.py --workdir=gs-fuse/runs/fdnas
#
# `--distributed` lets jax.distributed find the pod's workers itself. The repository (with
# its .venv built by `make venv`) must be at the same path on every worker, and the workdir
# and data directory on storage they all see.
set -euo pipefail
tpu="$1"; zone="$2"; shift 2
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all --command \
  "cd ~/fakenas_jax && .venv/bin/python -m fakenas_jax.search --distributed $*"
