// out = round(bg + (fg - bg) * clamp(mask, 0, 1)) row by row, with the background a colour,
// an image, or a low-resolution image upsampled on the fly. Included after sample_image.inl.
#pragma once

#include "kernels/jobs.hpp"
#include "kernels/row_cache.hpp"
#include "kernels/window_gather.inl"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

// Elements k .. k + kLanes of one image row as floats: contiguous bytes, or through the table
// of element offsets (strided views). Fields are copied out of the job: the blend's byte
// stores could otherwise alias them and force reloads in the loop.
template <class V>
struct RowElements {
  const uint8_t* data;
  int32_t row_offset;
  const int32_t* elem_off;  // null when the row is contiguous
  int32_t last_word;

  RowElements(const ImageView& img, const int32_t* offsets, int32_t last, int y)
      : data(img.data), row_offset(static_cast<int32_t>(y * img.row_stride)), elem_off(offsets), last_word(last) {}
  typename V::F at(int k) const {
    if (elem_off == nullptr) return V::load_u8(data + row_offset + k);
    const auto off = V::addi(V::seti(row_offset), V::loadi(elem_off + k));
    return V::byte_to_float(V::gather_u32(data, off, last_word), 0);
  }
};

// The mask value of each pixel repeated for its channels, so the blend reads it contiguously.
template <class V>
void expand_mask_row(const BlendJob& job, int y) {
  const int C = job.fg.channels, width = job.fg.width;
  float* row = job.mask_row;
  int x = 0;
  if (C == 3 && job.mask_f32 != nullptr && job.mask_col_stride == 1) {
    const float* mask = job.mask_f32 + y * job.mask_row_stride;
    for (; x + V::kLanes <= width; x += V::kLanes) V::store_repeated3(row + 3 * x, V::load(mask + x));
  }
  for (; x < width; ++x) {
    const int64_t at = y * job.mask_row_stride + x * job.mask_col_stride;
    const float m = job.mask_f32 != nullptr ? job.mask_f32[at] : static_cast<float>(job.mask_u8[at]);
    for (int c = 0; c < C; ++c) row[x * C + c] = m;
  }
}

template <class V>
void upsample_low_row(const BlendJob& job, int low_row, float* dst, int k_begin, int k_end) {
  const float* src = job.low + int64_t{low_row} * job.low_row_elems;
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    typename V::F a, b;
    gather_tap_pair<V>(src, job.low_row_elems, job.up_off0 + k, job.up_off1 + k, a, b);
    V::store(dst + k, V::add(V::mul(a, V::load(job.up_w0 + k)), V::mul(b, V::load(job.up_w1 + k))));
  }
}

template <class V, class Background>
[[gnu::always_inline]] inline void blend_elements(const RowElements<V>& fg, const float* mask, uint8_t* out,
                                                  int k_begin, int k_end, Background background) {
  const auto zero = V::set1(0.0f), one = V::set1(1.0f);
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    const auto m = V::max(V::min(V::load(mask + k), one), zero);
    const auto bg = background(k);
    V::store_u8(out + k, V::add(bg, V::mul(V::sub(fg.at(k), bg), m)));
  }
}

template <class V>
void blend_span(const BlendJob& job, int y, const float* top, const float* bottom, int k_begin, int k_end) {
  const RowElements<V> fg(job.fg, job.fg_elem_off, job.fg_last_word, y);
  uint8_t* out = job.out + int64_t{y} * job.fg.width * job.fg.channels;
  const float* mask = job.mask_row;
  switch (job.background) {
    case BackgroundKind::color: {
      const float* color = job.color_row;
      blend_elements<V>(fg, mask, out, k_begin, k_end, [color](int k) { return V::load(color + k); });
      break;
    }
    case BackgroundKind::image: {
      const RowElements<V> bg(job.bg, job.bg_elem_off, job.bg_last_word, y);
      blend_elements<V>(fg, mask, out, k_begin, k_end, [&bg](int k) { return bg.at(k); });
      break;
    }
    case BackgroundKind::upsampled: {
      const auto wy0 = V::set1(job.up_row_w0[y]), wy1 = V::set1(job.up_row_w1[y]);
      blend_elements<V>(fg, mask, out, k_begin, k_end, [=](int k) {
        return V::add(V::mul(V::load(top + k), wy0), V::mul(V::load(bottom + k), wy1));
      });
      break;
    }
  }
}

template <class V>
void blend(const BlendJob& job) {
  const int channels = job.fg.channels;
  const int row_n = job.fg.width * channels;
  const int row_vec = row_n - row_n % V::kLanes;
  RowPairCache cache(job.cache, job.cache + row_n);
  auto upsample = [&](int low_row, float* dst) {  // once per low-res row
    upsample_low_row<V>(job, low_row, dst, 0, row_vec);
    upsample_low_row<simd::ScalarOps>(job, low_row, dst, row_vec, row_n);
  };
  for (int y = 0; y < job.fg.height; ++y) {
    expand_mask_row<V>(job, y);
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
