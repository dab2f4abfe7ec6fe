"""Scores images and videos with a trained detector: P(fake) per face, frame and file.

    python -m fakenas_jax.predict --workdir=runs/train face.jpg clip.mp4
    python -m fakenas_jax.predict --workdir=runs/train --output=runs/pred --overlays \
        --annotated_video --every_n=5 clip.mp4

Faces are found and cropped as the run's corpus crops them, and scored with the run's `best`
checkpoint (or --checkpoint=latest|STEP). Results go to --output (default <workdir>/predict):
predictions.json, files.csv, frames.csv, faces.csv, and with --overlays Grad-CAM pictures,
with --annotated_video the videos with boxes and P(fake). A file that cannot be read is
reported with its reason; the others are still scored.
"""

import sys

from absl import flags

from fakenas_jax import checkpoints, cli

_WORKDIR = flags.DEFINE_string("workdir", "runs/train", "Training workdir of the detector.")
_OUTPUT = flags.DEFINE_string("output", "", "Output directory (default <workdir>/predict).")
_CHECKPOINT = flags.DEFINE_string("checkpoint", "best", "best, latest or a step number.")
_FRAMES = flags.DEFINE_integer("frames_per_video", 10, "Evenly spaced frames scored a video.")
_EVERY_N = flags.DEFINE_integer("every_n", 0, "Score every n-th frame instead (0: off).")
_BATCH = flags.DEFINE_integer("batch_size", 16, "Faces per network call.")
_MAX_FACES = flags.DEFINE_integer("max_faces", 4, "Faces scored a frame, largest first.")
_THRESHOLD = flags.DEFINE_float("threshold", 0.5, "P(fake) at and above which a file is fake.")
_OVERLAYS = flags.DEFINE_boolean("overlays", False, "Write Grad-CAM / mask overlay PNGs.")
_MAX_OVERLAYS = flags.DEFINE_integer("max_overlays", 10, "Overlay PNGs a file at most.")
_LAYER = flags.DEFINE_string(
  "gradcam_layer",
  "",
  "Module path of the Grad-CAM layer (default: the last feature map before the logits).",
)
_ANNOTATED = flags.DEFINE_boolean(
  "annotated_video", False, "Write each video with boxes and P(fake) drawn in."
)
_MARGIN = flags.DEFINE_float("margin", None, "Override the corpus's face crop margin.")
_FRAME_SCORE = flags.DEFINE_enum(
  "frame_score",
  "max",
  ["max", "mean"],
  "A frame's P(fake) from its faces': max (a frame is fake when any face is) or mean.",
)
_DETECTOR = flags.DEFINE_enum(
  "detector", "hog", ["hog", "cnn"], "Face detector: dlib's HOG, or its MMOD CNN (slower)."
)
_MIN_FACE_SCORE = flags.DEFINE_float(
  "min_face_score", None, "Minimum detector score of a face (default: the calibrated one)."
)


def main(argv):
  files = argv[1:]
  cli.quiet_library_logs()
  if not files:
    print("error: give the image or video files to score after the flags", file=sys.stderr)
    return 2
  checkpoint = _CHECKPOINT.value
  checkpoint = int(checkpoint) if checkpoint.isdigit() else checkpoint
  from fakenas_jax.eval import predict_files  # starts JAX: after the flags are parsed

  try:
    report = predict_files.predict_files(
      _WORKDIR.value,
      files,
      _OUTPUT.value or None,
      checkpoint=checkpoint,
      frames_per_video=_FRAMES.value,
      every_n=_EVERY_N.value,
      batch_size=_BATCH.value,
      max_faces=_MAX_FACES.value,
      threshold=_THRESHOLD.value,
      overlays=_OVERLAYS.value,
      max_overlays=_MAX_OVERLAYS.value,
      gradcam_layer=_LAYER.value,
      annotated_video=_ANNOTATED.value,
      margin=_MARGIN.value,
      frame_score=_FRAME_SCORE.value,
      detector=_DETECTOR.value,
      min_face_score=_MIN_FACE_SCORE.value,
    )
  except (FileNotFoundError, ValueError, checkpoints.CheckpointMismatchError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  print(
    f"{report['model']} trained on {report['training_corpus']}, checkpoint step "
    f"{report['checkpoint_step']} ({report['checkpoint']})"
  )
  for result in report["files"]:
    if result["status"] == "ok":
      print(
        f"{result['label']:>4}  P(fake) {result['p_fake']:.4f}  "
        f"{result['frames_scored']}/{result['frames_selected']} frames  {result['file']}"
      )
    else:
      print(f"{result['status']:>7}  {result['file']}: {result['message']}")
    for caveat in result.get("caveats", []):
      print(f"         caveat: {caveat}")
  for caveat in report.get("caveats", []):
    print(f"caveat: {caveat}")
  print(predict_files.summary_line(report))
  print(f"written to {report['paths']['json']} (and files.csv, frames.csv, faces.csv)")
  return predict_files.exit_code(report)


if __name__ == "__main__":
  cli.run(main)
