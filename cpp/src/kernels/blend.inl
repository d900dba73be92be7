// out = round(bg + (fg - bg) * clamp(mask, 0, 1)) row by row, with the background a colour,
// an image, or a low-resolution image upsampled on the fly. Included after sample_image.inl.
#pragma once

#include "kernels/jobs.hpp"
#include "kernels/row_cache.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

template <class V>
inline typename V::F load_image_elements(const ImageView& img, const int32_t* elem_off, int32_t last_word, int y,
                                         int k) {
  const int64_t row = y * img.row_stride;
  if (elem_off == nullptr) return V::load_u8(img.data + row + k);
  const auto off = V::addi(V::seti(static_cast<int32_t>(row)), V::loadi(elem_off + k));
  return V::byte_to_float(V::gather_u32(img.data, off, last_word), 0);
}

// The mask value of each pixel repeated for its channels, so the blend reads it contiguously.
inline void expand_mask_row(const BlendJob& job, int y) {
  const int C = job.fg.channels;
  float* row = job.mask_row;
  for (int x = 0; x < job.fg.width; ++x) {
    const int64_t at = y * job.mask_row_stride + x * job.mask_col_stride;
    const float m = job.mask_f32 != nullptr ? job.mask_f32[at] : static_cast<float>(job.mask_u8[at]);
    for (int c = 0; c < C; ++c) row[x * C + c] = m;
  }
}

template <class V>
void upsample_low_row(const BlendJob& job, int low_row, float* dst, int k_begin, int k_end) {
  const float* src = job.low + int64_t{low_row} * job.low_row_elems;
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    const auto a = V::gather_f32(src, V::loadi(job.up_off0 + k));
    const auto b = V::gather_f32(src, V::loadi(job.up_off1 + k));
    V::store(dst + k, V::add(V::mul(a, V::load(job.up_w0 + k)), V::mul(b, V::load(job.up_w1 + k))));
  }
}

template <class V>
void blend_span(const BlendJob& job, int y, const float* top, const float* bottom, int k_begin, int k_end) {
  using F = typename V::F;
  const F zero = V::set1(0.0f), one = V::set1(1.0f);
  const int row_n = job.fg.width * job.fg.channels;
  uint8_t* out = job.out + int64_t{y} * row_n;
  F wy0 = zero, wy1 = zero;
  if (job.background == BackgroundKind::upsampled) {
    wy0 = V::set1(job.up_row_w0[y]);
    wy1 = V::set1(job.up_row_w1[y]);
  }
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    const F fg = load_image_elements<V>(job.fg, job.fg_elem_off, job.fg_last_word, y, k);
    F m = V::load(job.mask_row + k);
    m = V::max(V::min(m, one), zero);
    F bg;
    switch (job.background) {
      case BackgroundKind::color:
        bg = V::load(job.color_row + k);
        break;
      case BackgroundKind::image:
        bg = load_image_elements<V>(job.bg, job.bg_elem_off, job.bg_last_word, y, k);
        break;
      default:
        bg = V::add(V::mul(V::load(top + k), wy0), V::mul(V::load(bottom + k), wy1));
        break;
    }
    V::store_u8(out + k, V::add(bg, V::mul(V::sub(fg, bg), m)));
  }
}

template <class V>
void blend(const BlendJob& job) {
  const int channels = job.fg.channels;
  const int row_n = job.fg.width * channels;
  const int row_vec = row_n - row_n % V::kLanes;
  RowPairCache cache(job.cache, job.cache + row_n);
  auto upsample = [&](int low_row, float* dst) {
    upsample_low_row<simd::ScalarOps>(job, low_row, dst, 0, row_n);  // once per low-res row
  };
  for (int y = 0; y < job.fg.height; ++y) {
    expand_mask_row(job, y);
    const float* rows[2] = {nullptr, nullptr};
    if (job.background == BackgroundKind::upsampled) cache.get(job.up_row0[y], job.up_row1[y], rows[0], rows[1], upsample);
    blend_span<V>(job, y, rows[0], rows[1], 0, row_vec);
    blend_span<simd::ScalarOps>(job, y, rows[0], rows[1], row_vec, row_n);
    if (channels == 4) {  // alpha comes from the foreground unchanged
      uint8_t* out = job.out + int64_t{y} * row_n;
      const uint8_t* fg = job.fg.data + y * job.fg.row_stride;
      for (int x = 0; x < job.fg.width; ++x) out[4 * x + 3] = fg[x * job.fg.pixel_stride + 3];
    }
  }
}

}  // namespace
}  // namespace edgevision::kernels
