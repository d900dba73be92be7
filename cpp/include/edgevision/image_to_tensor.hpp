// Model input tensors from frames: whole-frame letterbox and rotated ROI crops, both
// bilinear samplings of the image through an affine Transform.
#pragma once

#include "edgevision/geometry.hpp"
#include "edgevision/types.hpp"

namespace edgevision {

// The sampling map of `letterbox` for an image of `image_size`.
Transform letterbox_transform(Size image_size, Size tensor_size, bool keep_aspect, Sampling sampling);
// The sampling map of `warp_roi`: `rect` grown to the tensor's aspect when `keep_aspect`.
Transform roi_transform(const Rect& rect, Size image_size, Size tensor_size, bool keep_aspect);

// Samples `image` into `out` (spec.elements() values of spec.type, contiguous) through the
// affine `transform`: tensor pixels inside transform.content() are bilinear samples whose
// taps past the image edge read 0 or the edge (`tap_border`); those outside are filled per
// spec.border (value 0, or the nearest content pixel). `threads`: share a large tensor's rows
// with up to threads - 1 helper threads (the result is the same).
void sample_into_tensor(const ImageView& image, const Transform& transform, const TensorSpec& spec,
                        Border tap_border, void* out, int threads = 1);

inline Transform letterbox(const ImageView& image, const TensorSpec& spec, bool keep_aspect, Sampling sampling,
                           void* out, int threads = 1) {
  const Transform t = letterbox_transform({image.width, image.height}, spec.size, keep_aspect, sampling);
  // cv2.resize clamps its taps at the image edge; the border only fills the padding.
  sample_into_tensor(image, t, spec, sampling == Sampling::opencv ? Border::replicate : spec.border, out, threads);
  return t;
}

inline Transform warp_roi(const ImageView& image, const Rect& rect, const TensorSpec& spec, bool keep_aspect,
                          void* out, int threads = 1) {
  const Transform t = roi_transform(rect, {image.width, image.height}, spec.size, keep_aspect);
  sample_into_tensor(image, t, spec, spec.border, out, threads);
  return t;
}

}  // namespace edgevision
