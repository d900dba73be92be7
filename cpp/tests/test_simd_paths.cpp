// Every SIMD path gives exactly the scalar result, on sizes around the vector widths, odd
// strides, 3 and 4 channels, both layouts and both element types.
#include <cstring>
#include <string>

#include "check.hpp"
#include "edgevision/composite.hpp"
#include "edgevision/filters.hpp"
#include "edgevision/image_to_tensor.hpp"
#include "edgevision/isa.hpp"
#include "edgevision/resize_mask.hpp"
#include "fixtures.hpp"

using namespace edgevision;
using namespace edgevision::testing;

namespace {

template <class Run>
void expect_all_paths_equal(const char* what, size_t bytes, Run run) {
  std::vector<uint8_t> reference(bytes), got(bytes);
  force_isa(Isa::scalar);
  run(reference.data());
  for (Isa isa : supported_isas()) {
    if (isa == Isa::scalar) continue;
    force_isa(isa);
    std::memset(got.data(), 0xAB, bytes);
    run(got.data());
    CHECK_MSG(std::memcmp(reference.data(), got.data(), bytes) == 0, std::string(what) + " on " + isa_name(isa));
  }
  unforce_isa();
}

// resize_mask into a buffer `shift` bytes past its allocation's start (shifts 0-60 step 4 put it
// at every float offset within a cache line) gives the scalar result on every path; the buffer
// is refilled before each path, so what one left cannot pass for another's.
void expect_shifted_resize_paths_equal(const char* what, const PlaneView<float>& mask, const MaskResize& options,
                                       size_t bytes, size_t shift) {
  std::vector<float> storage((bytes + 128) / 4);
  expect_all_paths_equal(what, bytes, [&](uint8_t* dst) {
    uint8_t* shifted = reinterpret_cast<uint8_t*>(storage.data()) + shift;
    std::memset(shifted, 0xAB, bytes);
    resize_mask(mask, options, shifted);
    std::memcpy(dst, shifted, bytes);
  });
}

const int kWidths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 67};

}  // namespace

TEST(image_to_tensor_paths_match_scalar) {
  uint32_t seed = 1;
  for (int w : kWidths) {
    for (int channels : {3, 4}) {
      const OwnedImage img = random_image(w + 3, w / 2 + 2, channels, channels + (w % 3 == 0 ? 2 : 0), w % 2, seed++);
      for (Layout layout : {Layout::nhwc, Layout::nchw}) {
        for (ElementType type : {ElementType::float32, ElementType::uint8}) {
          for (Border border : {Border::zero, Border::replicate}) {
            TensorSpec spec;
            spec.size = {w, w % 5 + 3};
            spec.layout = layout;
            spec.type = type;
            spec.border = border;
            spec.bgr_input = (w % 2) == 0;
            spec.range_lo = -1.0f;
            const size_t bytes = spec.elements() * (type == ElementType::float32 ? 4 : 1);
            for (Sampling s : {Sampling::opencv, Sampling::mediapipe})
              expect_all_paths_equal("letterbox", bytes, [&](uint8_t* out) { letterbox(img.view, spec, true, s, out); });
            const Rect rect{w * 0.7, w * 0.3, w * 1.3 + 1, w * 0.8 + 1, 0.1 * w - 2};
            expect_all_paths_equal("warp_roi", bytes, [&](uint8_t* out) { warp_roi(img.view, rect, spec, true, out); });
          }
        }
      }
    }
  }
}

TEST(resize_mask_paths_match_scalar) {
  uint32_t seed = 100;
  for (int w : kWidths) {
    // Logit-like values of both signs: zero-weight lanes must not turn into -0 on some paths.
    const OwnedMask mask = random_mask(w + 2, w / 3 + 1, 1 + w % 2, seed++, -1.0f);
    const Size out{3 * w + 1, 2 * w + 3};
    const Transform letterboxed = letterbox_transform(out, {mask.view.width, mask.view.height}, true, Sampling::opencv);
    const Transform rotated = roi_transform(Rect{w * 1.5, w * 0.9, w * 2.0, w * 1.5, 0.7}, out,
                                            {mask.view.width, mask.view.height}, true);
    // Nearly upright and upsampled (a pose mask): chunks read their taps through window loads.
    const Transform upright = roi_transform(Rect{w * 1.4, w * 1.1, w * 2.6, w * 1.9, 0.02}, out,
                                            {mask.view.width, mask.view.height}, true);
    for (const Transform* t : {static_cast<const Transform*>(nullptr), &letterboxed, &rotated, &upright}) {
      for (Border border : {Border::zero, Border::replicate}) {
        for (bool thresholded : {false, true}) {
          MaskResize options;
          options.size = out;
          options.transform = t;
          options.border = border;
          if (thresholded) options.threshold = 0.5f;
          const size_t bytes = size_t(out.width) * out.height * (thresholded ? 1 : 4);
          expect_all_paths_equal("resize_mask", bytes, [&](uint8_t* dst) { resize_mask(mask.view, options, dst); });
        }
      }
    }
  }
}

TEST(resize_mask_unaligned_outputs_match_scalar) {
  // Output rows start at every offset from a vector boundary (numpy's large arrays sit 16 bytes
  // past one): the stores are peeled to alignment, which must not change a value.
  const OwnedMask mask = random_mask(40, 30, 1, 21, -1.0f);
  const Size out{77, 45};  // odd width: rows start at every offset within the buffer as well
  const Transform letterboxed = letterbox_transform(out, {40, 30}, true, Sampling::opencv);
  for (bool thresholded : {false, true}) {
    const size_t element = thresholded ? 1 : 4;
    for (size_t shift = 0; shift < 64; shift += element) {
      MaskResize options;
      options.size = out;
      options.transform = &letterboxed;
      if (thresholded) options.threshold = 0.2f;
      const size_t bytes = size_t(out.width) * out.height * element;
      expect_shifted_resize_paths_equal("resize_mask unaligned", mask.view, options, bytes, shift);
    }
  }
}

TEST(resize_mask_bands_match_scalar) {
  // Float outputs a whole number of vectors wide go by bands of rows that share their source
  // rows (8 and 16 lanes), columns planned in the rows' alignment phase and the lines that rows
  // share stored whole: the buffer at every offset from a vector boundary; bands of one row
  // (downscale), two or three, five, and more than the band limit (12x); one-row outputs.
  struct Case {
    Size mask, out;
  };
  const Case cases[] = {{{40, 30}, {16, 12}}, {{40, 30}, {64, 75}},  {{26, 20}, {128, 100}}, {{12, 6}, {144, 72}},
                        {{40, 30}, {264, 31}}, {{7, 1}, {8, 1}},    {{9, 3}, {12, 1}},      {{40, 30}, {40, 1}}};
  uint32_t seed = 500;
  for (const Case& c : cases) {
    const OwnedMask mask = random_mask(c.mask.width, c.mask.height, 1 + seed % 2, seed, -1.0f);
    ++seed;
    const Transform letterboxed = letterbox_transform(c.out, c.mask, true, Sampling::opencv);
    for (const Transform* t : {static_cast<const Transform*>(nullptr), &letterboxed}) {
      for (Border border : {Border::zero, Border::replicate}) {
        MaskResize options;
        options.size = c.out;
        options.transform = t;
        options.border = border;
        const size_t bytes = size_t(c.out.width) * c.out.height * 4;
        for (size_t shift = 0; shift < 64; shift += 4)
          expect_shifted_resize_paths_equal("resize_mask bands", mask.view, options, bytes, shift);
      }
    }
  }
}

TEST(resize_mask_leaning_rois_match_scalar) {
  // A pose mask (64x64 here) upsampled into a leaning ROI of a large frame: chunks of a row
  // cross zero, one or two source rows, and take the three- and four-row window paths.
  const OwnedMask mask = random_mask(64, 64, 1, 7, -1.0f);
  const Size out{640, 360};
  for (double rotation : {0.05, 0.3, 0.5, 0.9, -1.2, 2.6}) {
    for (double side : {150.0, 300.0}) {
      const Transform leaning = roi_transform(Rect{320, 180, side, side * 1.1, rotation}, out, {64, 64}, true);
      for (Border border : {Border::zero, Border::replicate}) {
        MaskResize options;
        options.size = out;
        options.transform = &leaning;
        options.border = border;
        expect_all_paths_equal("resize_mask leaning", size_t(out.width) * out.height * 4,
                               [&](uint8_t* dst) { resize_mask(mask.view, options, dst); });
      }
    }
  }
}

TEST(composite_paths_match_scalar) {
  uint32_t seed = 200;
  for (int w : kWidths) {
    for (int channels : {3, 4}) {
      const OwnedImage img = random_image(w, w % 7 + 1, channels, channels + (w % 2), 0, seed++);
      const OwnedImage other = random_image(w, w % 7 + 1, 3, 3, 1, seed++);
      const OwnedMask mask = random_mask(w, w % 7 + 1, 1 + w % 2, seed++);
      const size_t bytes = size_t(w) * (w % 7 + 1) * channels;
      CompositeMask m;
      m.weights = mask.view;
      for (float sigma : {1.0f, 3.0f, 8.0f}) {
        Background blur;
        blur.kind = Background::Kind::blur;
        blur.blur_sigma = sigma;
        expect_all_paths_equal("composite blur", bytes, [&](uint8_t* out) { composite(img.view, m, blur, out); });
      }
      Background color;
      color.color[0] = 10, color.color[1] = 200, color.color[2] = 77;
      expect_all_paths_equal("composite colour", bytes, [&](uint8_t* out) { composite(img.view, m, color, out); });
      Background image;
      image.kind = Background::Kind::image;
      image.image = other.view;
      expect_all_paths_equal("composite image", bytes, [&](uint8_t* out) { composite(img.view, m, image, out); });

      // A low-resolution mask upsampled inside the blend (plain, through a letterbox, and
      // thresholded), and a uint8 mask.
      const Size frame{w, w % 7 + 1};
      const OwnedMask small = random_mask(5 + w % 4, 3 + w % 5, 1 + w % 2, seed++, -0.2f);
      const Transform letterboxed = letterbox_transform(frame, {8, 8}, true, Sampling::opencv);
      CompositeMask low;
      low.weights = small.view;
      Background blurred;
      blurred.kind = Background::Kind::blur;
      blurred.blur_sigma = 5.0f;
      expect_all_paths_equal("composite low-res mask", bytes,
                             [&](uint8_t* out) { composite(img.view, low, blurred, out); });
      low.transform = &letterboxed;
      expect_all_paths_equal("composite letterboxed mask", bytes,
                             [&](uint8_t* out) { composite(img.view, low, color, out); });
      low.threshold = 0.4f;
      expect_all_paths_equal("composite thresholded mask", bytes,
                             [&](uint8_t* out) { composite(img.view, low, image, out); });
      std::vector<uint8_t> binary(size_t(w) * frame.height);
      for (size_t k = 0; k < binary.size(); ++k) binary[k] = static_cast<uint8_t>((k * 7 + w) % 3);
      CompositeMask binary_mask;
      binary_mask.binary = PlaneView<uint8_t>{binary.data(), w, frame.height, w, 1};
      expect_all_paths_equal("composite uint8 mask", bytes,
                             [&](uint8_t* out) { composite(img.view, binary_mask, color, out); });
    }
  }
}

TEST(segmentation_smoothing_paths_match_scalar) {
  uint32_t seed = 300;
  for (int w : kWidths) {
    const int h = w % 5 + 1;
    // Values beyond [0, 1] too (the fit saturates there), contiguous and strided planes.
    const OwnedMask previous = random_mask(w, h, 1, seed++, -0.5f);
    for (int col_stride : {1, 2}) {
      OwnedMask current = random_mask(w, h, col_stride, seed++, -0.3f);
      for (float& v : current.buffer) v *= 1.6f;
      for (float ratio : {0.0f, 0.7f, 1.0f})
        expect_all_paths_equal("segmentation_smoothing", size_t(w) * h * 4, [&](uint8_t* out) {
          segmentation_smoothing(previous.view, current.view, ratio, reinterpret_cast<float*>(out));
        });
    }
  }
}

TEST(fused_segmentation_smoothing_equals_resize_then_smoothing) {
  // A low-resolution mask resized through a letterbox or a rotated ROI and smoothed in the same
  // pass gives exactly resize_mask followed by segmentation_smoothing, on every path.
  const OwnedMask small = random_mask(40, 36, 1, 401, -0.2f);
  for (const Size frame : {Size{97, 61}, Size{96, 61}}) {  // by rows; by bands (8 and 16 lanes)
    const OwnedMask previous = random_mask(frame.width, frame.height, 1, 402);  // rows padded by one element
    const PlaneView<float>& prev = previous.view;
    const Transform letterboxed = letterbox_transform(frame, {40, 36}, true, Sampling::opencv);
    const Transform rotated = roi_transform(Rect{50, 30, 70, 60, 0.4}, frame, {40, 36}, true);
    const size_t bytes = size_t(frame.width) * frame.height * 4;
    for (const Transform* t : {&letterboxed, &rotated, static_cast<const Transform*>(nullptr)}) {
      for (Border border : {Border::zero, Border::replicate}) {
        MaskResize options;
        options.size = frame;
        options.transform = t;
        options.border = border;
        std::vector<float> resized(size_t(frame.width) * frame.height), separate(resized.size());
        force_isa(Isa::scalar);
        resize_mask(small.view, options, resized.data());
        segmentation_smoothing(prev, PlaneView<float>{resized.data(), frame.width, frame.height, frame.width, 1}, 0.7f,
                               separate.data());
        unforce_isa();
        for (Isa isa : supported_isas()) {
          force_isa(isa);
          std::vector<float> fused(resized.size(), -7.0f);
          segmentation_smoothing(prev, small.view, options, 0.7f, fused.data());
          CHECK_MSG(std::memcmp(fused.data(), separate.data(), bytes) == 0,
                    std::string("fused smoothing on ") + isa_name(isa));
        }
        unforce_isa();
      }
    }
  }
}
