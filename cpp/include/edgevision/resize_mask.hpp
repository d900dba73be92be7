// Masks from model resolution back to frame size: plain bilinear resize, or the inverse of
// a letterbox / ROI Transform, optionally thresholded in the same pass.
#pragma once

#include <optional>

#include "edgevision/geometry.hpp"
#include "edgevision/types.hpp"

namespace edgevision {

struct MaskResize {
  Size size;                             // output (the frame)
  const Transform* transform = nullptr;  // tensor -> frame, as letterbox / warp_roi return
  Border border = Border::replicate;
  std::optional<float> threshold;        // uint8 0/1 output (value > threshold) when set
};

// `out`: size.width * size.height floats, or bytes when thresholded; contiguous. `threads`: share
// a large output's rows with up to threads - 1 helper threads (the result is the same).
void resize_mask(const PlaneView<float>& mask, const MaskResize& options, void* out, int threads = 1);

}  // namespace edgevision
