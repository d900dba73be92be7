// out = round(bg + (fg - bg) * clamp(mask, 0, 1)) row by row in fixed point (see BlendJob), with
// the background a colour, an image, or a low-resolution image upsampled on the fly, and the
// mask a frame-size plane or a low-resolution one upsampled on the fly (resample_mask.inl's
// separable arithmetic, so a fused mask equals resize_mask's). Included after sample_image.inl.
#pragma once

#include "kernels/jobs.hpp"
#include "kernels/resample_mask.inl"
#include "kernels/row_cache.hpp"
#include "kernels/window_gather.inl"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

// [begin, end) of a row in whole vectors of V's `lanes`, then the tail in ScalarOps.
template <class V, int kLanes, class Body>
[[gnu::always_inline]] inline void for_each_chunk(int n, Body&& body) {
  const int vector_end = n - n % kLanes;
  for (int k = 0; k < vector_end; k += kLanes) body(V{}, k);
  for (int k = vector_end; k < n; ++k) body(simd::ScalarOps{}, k);
}

// The mask of frame row y as floats in [0, 1] (or 0/1 when thresholded); may point into the
// plane itself.
template <class V>
const float* mask_row(const BlendJob& job, RowPairCache<float>& cache, const WindowPlan& plan, int y) {
  using S = simd::ScalarOps;
  const int width = job.fg.width;
  float* row = job.mask_row;
  const float* values = row;
  if (job.mask_resample != nullptr) {
    const ResampleMaskJob& resample = *job.mask_resample;
    const int vector_end = width - width % V::kLanes;
    const float *top, *bottom;
    cache.get(resample.row0[y], resample.row1[y], top, bottom, [&](int src_row, float* dst) {
      resample_row_horizontal<V>(resample, plan, resample.src.data + src_row * resample.src.row_stride, dst);
    });
    interpolate_rows<V>(resample, top, bottom, y, row, 0, vector_end);
    interpolate_rows<S>(resample, top, bottom, y, row, vector_end, width);
  } else if (job.mask_f32 != nullptr) {
    const float* plane = job.mask_f32 + y * job.mask_row_stride;
    if (job.mask_col_stride == 1) {
      values = plane;
    } else {
      for (int x = 0; x < width; ++x) row[x] = plane[x * job.mask_col_stride];
    }
  } else {
    const uint8_t* plane = job.mask_u8 + y * job.mask_row_stride;
    const auto one = V::set1(1.0f);
    if (job.mask_col_stride == 1) {
      const int vector_end = width - width % V::kLanes;
      for (int x = 0; x < vector_end; x += V::kLanes) V::store(row + x, V::min(V::load_u8(plane + x), one));
      for (int x = vector_end; x < width; ++x) row[x] = plane[x] != 0 ? 1.0f : 0.0f;
    } else {
      for (int x = 0; x < width; ++x) row[x] = plane[x * job.mask_col_stride] != 0 ? 1.0f : 0.0f;
    }
  }
  if (job.thresholded) {
    const float threshold = job.threshold;
    for_each_chunk<V, V::kLanes>(width, [&](auto ops, int x) {
      using O = decltype(ops);
      O::store(row + x, O::above(O::load(values + x), O::set1(threshold)));
    });
    values = row;
  }
  return values;
}

// Q15 weight of every element of row y: the pixel's mask weight repeated for its channels
// (an alpha channel gets 32767, so it comes from the foreground exactly).
template <class V>
void weight_elements(const BlendJob& job, const float* mask, int16_t* out) {
  const int width = job.fg.width, channels = job.fg.channels;
  int16_t* weights = channels == 1 ? out : job.weight_row;
  for_each_chunk<V, V::kLanes16>(width, [&](auto ops, int x) {
    using O = decltype(ops);
    O::store_q(weights + x, O::q15_weights(mask + x));
  });
  if (channels == 3) {
    for_each_chunk<V, V::kLanes16>(width, [&](auto ops, int x) {
      decltype(ops)::expand3_q(weights + x, out + 3 * x);
    });
  } else if (channels != 1) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) out[x * channels + c] = weights[x];
      for (int c = 3; c < channels; ++c) out[x * channels + c] = 32767;
    }
  }
}

// The elements of a strided image row as Q6.
inline void gather_q6(const ImageView& img, const int32_t* elem_off, int y, int n, int16_t* out) {
  const uint8_t* row = img.data + y * img.row_stride;
  for (int k = 0; k < n; ++k) out[k] = static_cast<int16_t>(row[elem_off[k]] << 6);
}

// Horizontally upsampled low-resolution row as interleaved Q6, once per low-res row: each
// plane through the mask's window gathers, then interleaved.
template <class V>
void upsample_low_row(const BlendJob& job, const WindowPlan& plan, int low_row, int16_t* dst) {
  using S = simd::ScalarOps;
  const int width = job.fg.width, channels = job.fg.channels, n = width * channels;
  const int vector_end = width - width % V::kLanes;
  for (int c = 0; c < channels; ++c) {
    const float* src = job.up.low + int64_t{c} * job.up.low_plane + int64_t{low_row} * job.up.low_w;
    float* plane_row = job.up_planes + int64_t{c} * width;
    for (int x = 0; x < vector_end; x += V::kLanes) {
      typename V::F a, b;
      planned_tap_pair<V>(src, plan, x, a, b);
      V::store(plane_row + x, V::add(V::mul(a, V::load(job.up.w0 + x)), V::mul(b, V::load(job.up.w1 + x))));
    }
    for (int x = vector_end; x < width; ++x) {
      float a, b;
      gather_tap_pair<S>(src, job.up.off0 + x, job.up.off1 + x, a, b);
      plane_row[x] = S::add(S::mul(a, job.up.w0[x]), S::mul(b, job.up.w1[x]));
    }
  }
  float* row = job.up_float_row;
  if (channels == 3) {
    const float *r = job.up_planes, *g = r + width, *b = g + width;
    for (int x = 0; x < vector_end; x += V::kLanes)
      V::store_interleaved3(row + 3 * x, V::load(r + x), V::load(g + x), V::load(b + x));
    for (int x = vector_end; x < width; ++x) S::store_interleaved3(row + 3 * x, r[x], g[x], b[x]);
  } else {
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) row[x * channels + c] = job.up_planes[int64_t{c} * width + x];
  }
  for_each_chunk<V, V::kLanes16>(n, [&](auto ops, int k) {
    using O = decltype(ops);
    O::store_q(dst + k, O::q6_from_floats(row + k));
  });
}

template <class O, class Background>
[[gnu::always_inline]] inline void blend_chunk(const uint8_t* fg, const int16_t* fg_q6, const int16_t* weights,
                                               uint8_t* out, int k, Background background) {
  const auto f = fg != nullptr ? O::load_u8_q6(fg + k) : O::load_q(fg_q6 + k);
  const auto b = background(k);
  O::store_u8_q6(out + k, O::addq(b, O::mulhrs(O::subq(f, b), O::load_q(weights + k))));
}

template <class V, class Background>
void blend_row(const uint8_t* fg, const int16_t* fg_q6, const int16_t* weights, uint8_t* out, int n,
               Background&& background) {
  for_each_chunk<V, V::kLanes16>(n, [&](auto ops, int k) {
    using O = decltype(ops);
    blend_chunk<O>(fg, fg_q6, weights, out, k, [&](int at) { return background(O{}, at); });
  });
}

template <class V>
void blend(const BlendJob& job) {
  const int width = job.fg.width, channels = job.fg.channels, n = width * channels;
  RowPairCache<float> mask_cache(job.mask_cache, job.mask_cache + width);
  RowPairCache<int16_t> up_cache(job.up_cache, job.up_cache + n);
  const WindowPlan mask_plan = job.mask_resample != nullptr ? plan_columns<V>(*job.mask_resample) : WindowPlan{};
  WindowPlan up_plan{};
  if (job.background == BackgroundKind::upsampled && job.up.rows == nullptr) {
    up_plan = window_plan_in(job.up_window_plan, width);
    if (!job.up_window_planned)
      plan_windows<V>(job.up.off0, job.up.off1, width - width % V::kLanes, job.up.low_w, up_plan);
  }
  const auto upsample = [&](int low_row, int16_t* dst) { upsample_low_row<V>(job, up_plan, low_row, dst); };
  for (int y = job.row_begin; y < job.row_end; ++y) {
    weight_elements<V>(job, mask_row<V>(job, mask_cache, mask_plan, y), job.weight_elements);
    const uint8_t* fg = nullptr;
    if (job.fg_elem_off == nullptr) {
      fg = job.fg.data + y * job.fg.row_stride;
    } else {
      gather_q6(job.fg, job.fg_elem_off, y, n, job.fg_row);
    }
    uint8_t* out = job.out + int64_t{y} * n;
    const int16_t* weights = job.weight_elements;
    switch (job.background) {
      case BackgroundKind::color: {
        const int16_t* color = job.color_row;
        blend_row<V>(fg, job.fg_row, weights, out, n, [color](auto ops, int k) { return decltype(ops)::load_q(color + k); });
        break;
      }
      case BackgroundKind::image: {
        if (job.bg_elem_off == nullptr) {
          const uint8_t* bg = job.bg.data + y * job.bg.row_stride;
          blend_row<V>(fg, job.fg_row, weights, out, n, [bg](auto ops, int k) { return decltype(ops)::load_u8_q6(bg + k); });
        } else {
          gather_q6(job.bg, job.bg_elem_off, y, n, job.bg_row);
          const int16_t* bg = job.bg_row;
          blend_row<V>(fg, job.fg_row, weights, out, n, [bg](auto ops, int k) { return decltype(ops)::load_q(bg + k); });
        }
        break;
      }
      case BackgroundKind::upsampled: {
        const int16_t *top, *bottom;
        if (job.up.rows != nullptr) {
          top = job.up.rows + int64_t{job.up.row0[y]} * n;
          bottom = job.up.rows + int64_t{job.up.row1[y]} * n;
        } else {
          up_cache.get(job.up.row0[y], job.up.row1[y], top, bottom, upsample);
        }
        const int32_t q0 = job.up.row_q0[y], q1 = job.up.row_q1[y];
        if (q1 == 0 || q0 == 0) {  // on a low-res row: a weight of 32768 is not a Q15 value
          const int16_t* bg = q1 == 0 ? top : bottom;
          blend_row<V>(fg, job.fg_row, weights, out, n, [bg](auto ops, int k) { return decltype(ops)::load_q(bg + k); });
        } else {
          blend_row<V>(fg, job.fg_row, weights, out, n, [=](auto ops, int k) {
            using O = decltype(ops);
            return O::addq(O::mulhrs(O::load_q(top + k), O::setq(static_cast<int16_t>(q0))),
                           O::mulhrs(O::load_q(bottom + k), O::setq(static_cast<int16_t>(q1))));
          });
        }
        break;
      }
    }
  }
}

// Every low-resolution row's horizontal pass (interleaved Q6, W * channels each) into `rows`,
// ahead of the blends that read them (job.up.rows).
template <class V>
void upsample_background_rows(const BlendJob& job, int16_t* rows) {
  const int width = job.fg.width, n = width * job.fg.channels, low_h = job.up.low_plane / job.up.low_w;
  const WindowPlan plan = window_plan_in(job.up_window_plan, width);
  plan_windows<V>(job.up.off0, job.up.off1, width - width % V::kLanes, job.up.low_w, plan);
  for (int r = 0; r < low_h; ++r) upsample_low_row<V>(job, plan, r, rows + int64_t{r} * n);
}

}  // namespace
}  // namespace edgevision::kernels
