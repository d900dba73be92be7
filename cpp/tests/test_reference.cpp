// The scalar kernels against a naive double-precision bilinear written from the formulas.
#include <cmath>
#include <string>

#include "check.hpp"
#include "edgevision/image_to_tensor.hpp"
#include "edgevision/isa.hpp"
#include "edgevision/resize_mask.hpp"
#include "fixtures.hpp"

using namespace edgevision;
using namespace edgevision::testing;

namespace {

// Pixel (x, y, c) with per-tap border: zero outside, or the nearest edge pixel.
double tap(const ImageView& img, int x, int y, int c, Border border) {
  if (border == Border::zero && (x < 0 || y < 0 || x >= img.width || y >= img.height)) return 0.0;
  x = x < 0 ? 0 : (x >= img.width ? img.width - 1 : x);
  y = y < 0 ? 0 : (y >= img.height ? img.height - 1 : y);
  return img.data[y * img.row_stride + x * img.pixel_stride + c];
}

double bilinear(const ImageView& img, double x, double y, int c, Border border) {
  const double fx = std::floor(x), fy = std::floor(y);
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  const double ax = x - fx, ay = y - fy;
  return (1 - ay) * ((1 - ax) * tap(img, x0, y0, c, border) + ax * tap(img, x0 + 1, y0, c, border)) +
         ay * ((1 - ax) * tap(img, x0, y0 + 1, c, border) + ax * tap(img, x0 + 1, y0 + 1, c, border));
}

}  // namespace

TEST(warp_roi_matches_naive_bilinear) {
  force_isa(Isa::scalar);
  const OwnedImage img = random_image(37, 23, 3, 4, 3, 7);
  for (Border border : {Border::zero, Border::replicate}) {
    for (double angle : {0.0, 0.4, -2.5, 3.14159}) {
      const Rect rect{18.0, 10.0, 30.0, 20.0, angle};
      TensorSpec spec;
      spec.size = {19, 13};
      spec.border = border;
      std::vector<float> out(spec.elements());
      warp_roi(img.view, rect, spec, false, out.data());
      const double c = std::cos(angle), s = std::sin(angle);
      double worst = 0;
      for (int i = 0; i < 13; ++i)
        for (int j = 0; j < 19; ++j) {
          const double u = (j / 19.0 - 0.5) * 30.0, v = (i / 13.0 - 0.5) * 20.0;
          const double x = 18.0 + c * u - s * v, y = 10.0 + s * u + c * v;
          for (int ch = 0; ch < 3; ++ch) {
            const double want = bilinear(img.view, x, y, ch, border) / 255.0;
            worst = std::fmax(worst, std::fabs(want - out[(i * 19 + j) * 3 + ch]));
          }
        }
      // float32 sample positions: a few 1e-5 pixels on a random image's 255-level steps
      CHECK_MSG(worst < 2e-4, "max error " + std::to_string(worst));
    }
  }
}

TEST(large_rotated_warps_match_naive_bilinear_on_every_path) {
  // Rows of several blocks of taps, with interior chunks (unclamped taps) next to chunks that
  // cross the image edge, and pairs at the very end of the buffer (the last row, no padding).
  for (Isa isa : supported_isas()) {
    force_isa(isa);
    for (int channels : {3, 4}) {
      const OwnedImage img = random_image(300, 200, channels, channels, 0, 11 + channels);
      // ... and rows along one axis only (a quarter turn: one coordinate constant along the
      // row) and a nearly degenerate rect (steps of ~1e-4 px: the interval's ends are walked to).
      for (const Rect& rect : {Rect{150.0, 100.0, 260.0, 170.0, 0.5}, Rect{255.0, 170.0, 200.0, 150.0, -0.7},
                               Rect{20.0, 25.0, 150.0, 90.0, 2.0}, Rect{150.0, 100.0, 120.0, 90.0, 1.5707963267948966},
                               Rect{298.6, 101.3, 0.02, 0.01, 0.3}}) {
        for (Border border : {Border::zero, Border::replicate}) {
          TensorSpec spec;
          spec.size = {150, 24};
          spec.border = border;
          std::vector<float> out(spec.elements());
          warp_roi(img.view, rect, spec, false, out.data());
          const double c = std::cos(rect.rotation), s = std::sin(rect.rotation);
          double worst = 0;
          for (int i = 0; i < spec.size.height; ++i)
            for (int j = 0; j < spec.size.width; ++j) {
              const double u = (j / 150.0 - 0.5) * rect.width, v = (i / 24.0 - 0.5) * rect.height;
              const double x = rect.x_center + c * u - s * v, y = rect.y_center + s * u + c * v;
              for (int ch = 0; ch < 3; ++ch) {
                const double want = bilinear(img.view, x, y, ch, border) / 255.0;
                worst = std::fmax(worst, std::fabs(want - out[(i * 150 + j) * 3 + ch]));
              }
            }
          CHECK_MSG(worst < 2e-4, std::string(isa_name(isa)) + ": max error " + std::to_string(worst));
        }
      }
    }
  }
  unforce_isa();
}

// Horizontal weights are quantised to 1/16384 (sample_image.inl): at most 255 * 0.5 / 16384 of a
// pixel level, 3.05e-5 in [0, 1] units.
constexpr double kSampleTolerance = 3.1e-5;

TEST(letterbox_opencv_mode_pads_and_scales) {
  force_isa(Isa::scalar);
  const OwnedImage img = random_image(40, 20, 3, 3, 0, 11);
  TensorSpec spec;
  spec.size = {16, 16};
  std::vector<float> out(spec.elements());
  const Transform t = letterbox(img.view, spec, true, Sampling::opencv, out.data());
  const PixelRect c = t.content();
  CHECK(c.x0 == 0 && c.x1 == 16 && c.y0 == 4 && c.y1 == 12);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      const bool inside = i >= 4 && i < 12;
      const double x = (j + 0.5) * 2.5 - 0.5, y = (i - 4 + 0.5) * 2.5 - 0.5;
      for (int ch = 0; ch < 3; ++ch) {
        const double want = inside ? bilinear(img.view, x, y, ch, Border::replicate) / 255.0 : 0.0;
        CHECK(std::fabs(want - out[(i * 16 + j) * 3 + ch]) < kSampleTolerance);
      }
    }
}

TEST(letterbox_opencv_mode_upscales_with_clamped_taps) {
  // Upscaling reads past the image edge: cv2.resize clamps there, whatever the border.
  force_isa(Isa::scalar);
  const OwnedImage img = random_image(5, 9, 3, 3, 0, 13);
  TensorSpec spec;
  spec.size = {16, 16};
  spec.border = Border::zero;
  std::vector<float> out(spec.elements());
  const Transform t = letterbox(img.view, spec, true, Sampling::opencv, out.data());
  const PixelRect c = t.content();
  const double sx = 5.0 / (c.x1 - c.x0), sy = 9.0 / (c.y1 - c.y0);
  for (int i = c.y0; i < c.y1; ++i)
    for (int j = c.x0; j < c.x1; ++j) {
      const double x = (j - c.x0 + 0.5) * sx - 0.5, y = (i - c.y0 + 0.5) * sy - 0.5;
      for (int ch = 0; ch < 3; ++ch) {
        const double want = bilinear(img.view, x, y, ch, Border::replicate) / 255.0;
        CHECK(std::fabs(want - out[(i * 16 + j) * 3 + ch]) < kSampleTolerance);
      }
    }
}

TEST(tiny_images_and_masks_stay_in_bounds) {
  // A single RGB pixel spans 3 bytes: 4-byte reads must not leave it (ASan checks).
  for (Isa isa : supported_isas()) {
    force_isa(isa);
    const OwnedImage one = random_image(1, 1, 3, 3, 0, 3);
    TensorSpec spec;
    spec.size = {5, 3};
    std::vector<float> out(spec.elements());
    letterbox(one.view, spec, true, Sampling::mediapipe, out.data());
    warp_roi(one.view, Rect{0, 0, 4, 4, 1.0}, spec, true, out.data());
    const OwnedMask mask = random_mask(1, 1, 1, 5);
    std::vector<float> big(7 * 9);
    MaskResize options;
    options.size = {7, 9};
    resize_mask(mask.view, options, big.data());
    for (float v : big) CHECK(std::fabs(v - mask.buffer[0]) < 1e-6f);
  }
}
