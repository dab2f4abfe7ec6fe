"""The built-in synthetic deepfake corpus: procedural faces and their forgeries (numpy/OpenCV).

    from fakenas_jax.data import synthetic
    video = synthetic.generate_video(synthetic.RECIPES["studio"], seed=(0, 1), target_identity=3,
                                     source_identity=5, method="swap_bilinear")
    data = synthetic.encode_frame(video.frames[0].image, video.quality)

Modules, one concept each: `landmarks` (the 68-point face model), `identity` (per-person
appearance), `styles` (what a corpus looks like), `motion` (head motion, talking, blinks),
`render` (drawing a frame), `forgeries` (re-synthesis, blending, masks), `recipes` (the corpora),
`video` (`generate_video`, encoding).
"""

from fakenas_jax.data.synthetic.forgeries import (
  BLENDINGS,
  CHANGE_THRESHOLD,
  UPSAMPLERS,
  boundary_radius,
  checkerboard_kernel,
  extrinsic_mask,
  face_hull_mask,
  intrinsic_mask,
  resynthesize,
  upsample_checkerboard,
)
from fakenas_jax.data.synthetic.identity import Identity, make_identity
from fakenas_jax.data.synthetic.landmarks import Expression, FaceShape, Pose, face_geometry
from fakenas_jax.data.synthetic.recipes import METHODS, RECIPES, CorpusRecipe
from fakenas_jax.data.synthetic.render import Scene, make_scene, render_face
from fakenas_jax.data.synthetic.styles import STYLES, RenderStyle
from fakenas_jax.data.synthetic.video import (
  Frame,
  Video,
  decode_frame,
  encode_frame,
  generate_video,
)

__all__ = [
  "BLENDINGS",
  "CHANGE_THRESHOLD",
  "METHODS",
  "RECIPES",
  "STYLES",
  "UPSAMPLERS",
  "CorpusRecipe",
  "Expression",
  "FaceShape",
  "Frame",
  "Identity",
  "Pose",
  "RenderStyle",
  "Scene",
  "Video",
  "boundary_radius",
  "checkerboard_kernel",
  "decode_frame",
  "encode_frame",
  "extrinsic_mask",
  "face_geometry",
  "face_hull_mask",
  "generate_video",
  "intrinsic_mask",
  "make_identity",
  "make_scene",
  "render_face",
  "resynthesize",
  "upsample_checkerboard",
]
