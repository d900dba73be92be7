// Kernels that share a large output's rows with helper threads give exactly the one-thread
// result on every SIMD path: chunk boundaries, per-worker scratch and row caches included.
// Outputs are above two workers' worth of pixels (parallel::kPixelsPerWorker each), with row
// counts that leave a short last chunk.
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "edgevision/composite.hpp"
#include "edgevision/filters.hpp"
#include "edgevision/image_to_tensor.hpp"
#include "edgevision/isa.hpp"
#include "edgevision/resize_mask.hpp"
#include "fixtures.hpp"
#include "parallel/chunks.hpp"

using namespace edgevision;
using namespace edgevision::testing;

namespace {

constexpr int kRepeats = 2;  // a helper joins at a different row each time

// run(out, 4) (as many workers as there are cores, up to 4) equals run(out, 1), on every ISA.
template <class Run>
void expect_split_equals_one_thread(const std::string& what, size_t bytes, Run run) {
  std::vector<uint8_t> reference(bytes), got(bytes);
  for (Isa isa : supported_isas()) {
    force_isa(isa);
    run(reference.data(), 1);
    for (int k = 0; k < kRepeats; ++k) {
      std::memset(got.data(), 0xAB, bytes);
      run(got.data(), 4);
      CHECK_MSG(std::memcmp(reference.data(), got.data(), bytes) == 0, what + " shared among threads, " + isa_name(isa));
    }
  }
  unforce_isa();
}

const Size kFrame{1031, 547};  // 564k pixels: two workers
const Size kBandFrame{1024, 560};  // float masks a whole number of vectors wide go by bands

}  // namespace

TEST(split_rows_sizes_workers_and_chunks) {
  using parallel::split_rows;
  CHECK(split_rows(720, 1280, 1).workers == 1);
  CHECK(split_rows(16, 16, 4).workers == 1);  // too small to repay a helper
  const parallel::RowSplit big = split_rows(1080, 1920, 4);
  CHECK(big.workers >= 1 && big.workers <= parallel::usable_workers(4));
  CHECK(big.chunk >= 1 && big.chunk * big.workers * parallel::kChunksPerWorker >= 1080);
  CHECK(split_rows(1, 1 << 22, 4).chunk == 1);
  CHECK(split_rows(720, 1280, 0).workers == 1);
}

TEST(resize_mask_split_rows_match_one_thread) {
  const OwnedMask mask = random_mask(256, 256, 1, 11, -1.0f);
  const OwnedMask strided = random_mask(144, 256, 2, 12, -1.0f);
  const Transform letterboxed = letterbox_transform(kFrame, {256, 256}, true, Sampling::opencv);
  const Transform rotated = roi_transform(Rect{500, 260, 600, 520, 0.4}, kFrame, {256, 256}, true);
  const Transform band_letterboxed = letterbox_transform(kBandFrame, {256, 256}, true, Sampling::opencv);
  for (const OwnedMask* m : {&mask, &strided}) {
    for (const Transform* t : {static_cast<const Transform*>(nullptr), &letterboxed, &rotated, &band_letterboxed}) {
      if (m == &strided && t != nullptr) continue;  // transforms are for the 256x256 tensor
      const Size frame = t == &band_letterboxed ? kBandFrame : kFrame;
      for (bool thresholded : {false, true}) {
        MaskResize options;
        options.size = frame;
        options.transform = t;
        options.border = t == &rotated ? Border::zero : Border::replicate;
        if (thresholded) options.threshold = 0.1f;
        const size_t bytes = size_t(frame.width) * frame.height * (thresholded ? 1 : 4);
        expect_split_equals_one_thread("resize_mask", bytes, [&](uint8_t* out, int threads) {
          resize_mask(m->view, options, out, threads);
        });
      }
    }
  }
}

TEST(fused_segmentation_smoothing_split_rows_match_one_thread) {
  const OwnedMask small = random_mask(256, 256, 1, 21, -0.2f);
  const OwnedMask previous = random_mask(kFrame.width, kFrame.height, 1, 22);
  const Transform rotated = roi_transform(Rect{500, 260, 600, 520, -0.3}, kFrame, {256, 256}, true);
  for (const Transform* t : {static_cast<const Transform*>(nullptr), &rotated}) {
    MaskResize options;
    options.size = kFrame;
    options.transform = t;
    expect_split_equals_one_thread("fused segmentation_smoothing", size_t(kFrame.width) * kFrame.height * 4,
                                   [&](uint8_t* out, int threads) {
                                     segmentation_smoothing(previous.view, small.view, options, 0.7f,
                                                            reinterpret_cast<float*>(out), threads);
                                   });
  }
}

TEST(composite_split_rows_match_one_thread) {
  for (int channels : {3, 4}) {
    const OwnedImage img = random_image(kFrame.width, kFrame.height, channels, channels + 1, 3, 31 + channels);
    const OwnedImage other = random_image(kFrame.width, kFrame.height, 3, 3, 0, 41);
    const OwnedMask small = random_mask(256, 256, 1, 51, -0.2f);
    const OwnedMask full = random_mask(kFrame.width, kFrame.height, 1, 52);
    const Transform letterboxed = letterbox_transform(kFrame, {256, 256}, true, Sampling::opencv);
    const Transform rotated = roi_transform(Rect{500, 260, 600, 520, 0.4}, kFrame, {256, 256}, true);
    const size_t bytes = size_t(kFrame.width) * kFrame.height * channels;

    Background blur, color, image;
    blur.kind = Background::Kind::blur;
    color.color[0] = 10, color.color[1] = 200, color.color[2] = 77, color.color[3] = 5;
    image.kind = Background::Kind::image;
    image.image = other.view;
    std::vector<CompositeMask> masks(5);
    masks[0].weights = full.view;
    masks[1].weights = small.view;
    masks[2].weights = small.view;
    masks[2].transform = &letterboxed;
    masks[3].weights = small.view;
    masks[3].transform = &rotated;
    masks[3].border = Border::zero;
    masks[4].weights = small.view;
    masks[4].threshold = 0.3f;
    for (float sigma : {3.0f, 40.0f}) {  // 8 below
      blur.blur_sigma = sigma;
      expect_split_equals_one_thread("composite blur sigma " + std::to_string(sigma), bytes,
                                     [&](uint8_t* out, int threads) { composite(img.view, masks[1], blur, out, threads); });
    }
    blur.blur_sigma = 8.0f;
    for (size_t k = 0; k < masks.size(); ++k) {
      for (const Background* bg : {&blur, &color, &image}) {
        expect_split_equals_one_thread("composite mask " + std::to_string(k), bytes,
                                       [&](uint8_t* out, int threads) { composite(img.view, masks[k], *bg, out, threads); });
      }
    }
  }
}

TEST(blurred_frame_started_ahead_equals_the_blur_composite) {
  // The blur handed to a helper (or computed by the composite when none took it) gives exactly
  // the plain blur composite, frame after frame with the sizes changing, on every ISA.
  const OwnedMask small = random_mask(256, 144, 1, 61, -0.2f);
  CompositeMask mask;
  mask.weights = small.view;
  BlurredFrame ahead;
  uint32_t seed = 70;
  for (Isa isa : supported_isas()) {
    force_isa(isa);
    for (Size size : {kFrame, Size{640, 360}, kFrame, Size{37, 5}}) {
      for (int channels : {3, 4}) {
        const OwnedImage img = random_image(size.width, size.height, channels, channels, 0, seed++);
        const size_t bytes = size_t(size.width) * size.height * channels;
        std::vector<uint8_t> expected(bytes), got(bytes);
        Background blur;
        blur.kind = Background::Kind::blur;
        blur.blur_sigma = 6.0f;
        composite(img.view, mask, blur, expected.data(), 1);
        for (int threads : {1, 4}) {
          ahead.start(img.view, 6.0f, threads);
          Background blurred;
          blurred.kind = Background::Kind::blurred;
          blurred.blurred = &ahead;
          std::memset(got.data(), 0xAB, bytes);
          composite(img.view, mask, blurred, got.data(), threads);
          CHECK_MSG(std::memcmp(expected.data(), got.data(), bytes) == 0,
                    std::string("blurred ahead, ") + isa_name(isa) + ", " + std::to_string(threads) + " threads, " +
                        std::to_string(size.width) + "x" + std::to_string(size.height) + "x" + std::to_string(channels));
        }
      }
    }
  }
  unforce_isa();
  const OwnedImage img = random_image(640, 360, 3, 3, 0, 99);  // outlives the blur reading it
  BlurredFrame never_used;  // started, never composited: finished on destruction
  never_used.start(img.view, 8.0f, 4);
}
