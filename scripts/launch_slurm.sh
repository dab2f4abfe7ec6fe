#!/usr/bin/env bash
# One multi-host search on a Slurm allocation: one process per node, JAX finds the cluster.
#
#   sbatch --nodes=4 --ntasks-per-node=1 --gpus-per-node=8 scripts/launch_slurm.sh \
#       --config=configs/search/fdnas_paper.py --workdir=/shared/runs/fdnas
#
# Every node runs the same command; `--distributed` makes jax.distributed read Slurm's
# variables (SLURM_JOB_NODELIST, SLURM_NTASKS, SLURM_PROCID). The workdir and the data
# directory must be on a file system every node sees. Use fakenas_jax.train the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
srun .venv/bin/python -m fakenas_jax.search --distributed "$@"
