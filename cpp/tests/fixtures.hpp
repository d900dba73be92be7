// Deterministic random images and masks, including strided views inside larger buffers.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "edgevision/types.hpp"

namespace edgevision::testing {

// A width x height x channels image whose pixels sit `pixel_stride` bytes apart and rows
// `row_pad` bytes past their end, placed at the very end of its buffer so any read past
// the last pixel leaves the allocation (AddressSanitizer reports it).
struct OwnedImage {
  std::vector<uint8_t> buffer;
  ImageView view;
};

inline OwnedImage random_image(int width, int height, int channels, int pixel_stride, int row_pad, uint32_t seed) {
  OwnedImage img;
  const int64_t row_stride = int64_t{width} * pixel_stride + row_pad;
  const int64_t span = (height - 1) * row_stride + (width - 1) * int64_t{pixel_stride} + channels;
  img.buffer.resize(static_cast<size_t>(span));
  std::mt19937 rng(seed);
  for (auto& b : img.buffer) b = static_cast<uint8_t>(rng());
  img.view = ImageView{img.buffer.data(), width, height, channels, row_stride, pixel_stride};
  return img;
}

struct OwnedMask {
  std::vector<float> buffer;
  PlaneView<float> view;
};

inline OwnedMask random_mask(int width, int height, int col_stride, uint32_t seed, float low = 0.0f) {
  OwnedMask m;
  const int64_t row_stride = int64_t{width} * col_stride + 1;
  m.buffer.resize(static_cast<size_t>((height - 1) * row_stride + (width - 1) * int64_t{col_stride} + 1));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(low, 1.0f);
  for (auto& v : m.buffer) v = u(rng);
  m.view = PlaneView<float>{m.buffer.data(), width, height, row_stride, col_stride};
  return m;
}

}  // namespace edgevision::testing
