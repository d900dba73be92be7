// Kernels read pixels as 4-byte words; an image of fewer than 4 bytes is copied aside first.
#pragma once

#include <cstdint>
#include <cstring>

#include "edgevision/types.hpp"

namespace edgevision {

// A view of `image` from which a 4-byte read at any pixel stays in bounds: the image itself,
// or a padded copy when it spans fewer than 4 bytes (a single RGB pixel).
class ReadableImage {
 public:
  ReadableImage(const ReadableImage&) = delete;
  ReadableImage& operator=(const ReadableImage&) = delete;
  explicit ReadableImage(const ImageView& image) : view_(image) {
    if (image.span() >= 4) return;
    const int64_t span = image.span();
    std::memcpy(bytes_, image.data, static_cast<size_t>(span));
    view_.data = bytes_;
  }
  const ImageView& view() const { return view_; }
  int32_t last_word() const { return static_cast<int32_t>((view_.data == bytes_ ? 4 : view_.span()) - 4); }

 private:
  ImageView view_;
  uint8_t bytes_[4] = {0, 0, 0, 0};
};

}  // namespace edgevision
