// Foreground over a colour, an image or a blurred copy of the frame, weighted by a mask.
#pragma once

#include <optional>

#include "edgevision/geometry.hpp"
#include "edgevision/types.hpp"

namespace edgevision {

class BlurredFrame;

struct Background {
  enum class Kind { color, image, blur, blurred };
  Kind kind = Kind::color;
  float color[4] = {0, 0, 0, 0};  // in the image's channel order
  ImageView image;                // frame-sized, 3 or 4 channels
  float blur_sigma = 8.0f;
  BlurredFrame* blurred = nullptr;  // Kind::blurred: a frame-sized blur computed ahead
};

// Exactly one of the two mask planes is set. `binary` is frame-sized; `weights` is frame-sized
// or is upsampled to the frame inside the blend as resize_mask would (with `transform`).
struct CompositeMask {
  PlaneView<float> weights;  // clipped to [0, 1]
  PlaneView<uint8_t> binary; // non-zero is foreground
  const Transform* transform = nullptr;  // tensor -> frame (letterbox / warp_roi) for `weights`
  Border border = Border::replicate;     // resize_mask's border for `transform`
  std::optional<float> threshold;        // weight 1 where the mask is > threshold, else 0
};

// `out`: contiguous H x W x C bytes, C = image.channels (alpha copied from `image`). Blended in
// fixed point: within one level of round(bg + (image - bg) * mask), unbiased. `threads`: share a
// large frame's rows with up to threads - 1 helper threads (the result is the same).
void composite(const ImageView& image, const CompositeMask& mask, const Background& background, uint8_t* out,
               int threads = 1);

// A frame's background blur computed ahead of its composite: start() hands the reduced-
// resolution blur to a helper thread, so that it runs while the caller does something else (a
// model's inference); finish(), which a composite with this background calls, waits for it or
// computes it on the calling thread if no helper took it. Until finish() the helpers belong to
// this blur, so other kernels' rows are not shared meanwhile. Reusable: start() again for the
// next frame (no allocation while the frame size repeats).
class BlurredFrame {
 public:
  BlurredFrame();
  ~BlurredFrame();  // finishes
  BlurredFrame(const BlurredFrame&) = delete;
  BlurredFrame& operator=(const BlurredFrame&) = delete;

  // `image` must stay valid and unchanged until finish(). threads <= 1: no helper (finish()
  // computes it).
  void start(const ImageView& image, float sigma, int threads);
  void finish();

  // The frame being blurred.
  int width() const;
  int height() const;
  int channels() const;
  bool started() const;  // start() has been called

 private:
  friend void composite(const ImageView&, const CompositeMask&, const Background&, uint8_t*, int);
  struct State;
  State* state_;
};

// The reduced-resolution factor and low-resolution sigma used for a blur of `sigma` pixels.
struct BlurPlan {
  int factor;
  float low_sigma;
  int radius;
};
BlurPlan plan_blur(float sigma);

}  // namespace edgevision
