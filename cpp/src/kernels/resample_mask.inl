// Bilinear resampling of a float plane: a separable path (axis-aligned maps, row-cached, taps
// from tables computed in double precision like cv2.resize) and an affine path (rotated ROIs,
// positions per pixel in float32).
#pragma once

#include "kernels/jobs.hpp"
#include "kernels/row_cache.hpp"
#include "kernels/window_gather.inl"
#include "kernels/float_taps.inl"

namespace edgevision::kernels {
namespace {

template <class V>
inline void store_mask_values(const ResampleMaskJob& job, int64_t index, typename V::F v) {
  if (job.thresholded) {
    V::store_gt_u8(static_cast<uint8_t*>(job.out) + index, v, V::set1(job.threshold));
  } else {
    V::store(static_cast<float*>(job.out) + index, v);
  }
}

template <class V>
void resample_row_horizontal(const ResampleMaskJob& job, const float* src_row, float* dst, int j_begin,
                             int j_end) {
  const int64_t row_elements = (job.src.width - 1) * job.src.col_stride + 1;
  for (int j = j_begin; j < j_end; j += V::kLanes) {
    typename V::F a, b;
    gather_tap_pair<V>(src_row, row_elements, job.col_off0 + j, job.col_off1 + j, a, b);
    V::store(dst + j, V::add(V::mul(a, V::load(job.col_w0 + j)), V::mul(b, V::load(job.col_w1 + j))));
  }
}

template <class V>
void resample_row_vertical(const ResampleMaskJob& job, const float* top, const float* bottom, int i,
                           int j_begin, int j_end) {
  const auto w0 = V::set1(job.row_w0[i]), w1 = V::set1(job.row_w1[i]);
  const int64_t row = int64_t{i} * job.width;
  // Locals, not job fields, in the loops: stores through `out` could alias the job.
  if (job.thresholded) {
    uint8_t* out = static_cast<uint8_t*>(job.out) + row;
    const auto threshold = V::set1(job.threshold);
    auto value = [&](int j) { return V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)); };
    int j = j_begin;
    for (; j + 4 * V::kLanes <= j_end; j += 4 * V::kLanes) {
      V::store_gt_u8_x4(out + j, value(j), value(j + V::kLanes), value(j + 2 * V::kLanes), value(j + 3 * V::kLanes),
                        threshold);
    }
    for (; j < j_end; j += V::kLanes) {
      V::store_gt_u8(out + j, V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)), threshold);
    }
  } else {
    float* out = static_cast<float*>(job.out) + row;
    for (int j = j_begin; j < j_end; j += V::kLanes) {
      V::store(out + j, V::add(V::mul(V::load(top + j), w0), V::mul(V::load(bottom + j), w1)));
    }
  }
}

template <class V>
void resample_mask_separable(const ResampleMaskJob& job) {
  const int width = job.width;
  const int vector_end = width - width % V::kLanes;
  RowPairCache cache(job.cache, job.cache + width);
  auto interpolate = [&](int src_row, float* dst) {
    const float* row = job.src.data + src_row * job.src.row_stride;
    resample_row_horizontal<V>(job, row, dst, 0, vector_end);
    resample_row_horizontal<simd::ScalarOps>(job, row, dst, vector_end, width);
  };
  for (int i = 0; i < job.height; ++i) {
    const float *top, *bottom;
    cache.get(job.row0[i], job.row1[i], top, bottom, interpolate);
    resample_row_vertical<V>(job, top, bottom, i, 0, vector_end);
    resample_row_vertical<simd::ScalarOps>(job, top, bottom, i, vector_end, width);
  }
}

template <class V>
void resample_mask_affine_span(const ResampleMaskJob& job, int i, int j_begin, int j_end) {
  using F = typename V::F;
  using I = typename V::I;
  const float* m = job.map.m;
  const float fi = static_cast<float>(i);
  const F bx = V::set1(m[1] * fi + m[2]);
  const F by = V::set1(m[4] * fi + m[5]);
  const F m0 = V::set1(m[0]), m3 = V::set1(m[3]);
  const I col_stride = V::seti(static_cast<int32_t>(job.src.col_stride));
  const I row_stride = V::seti(static_cast<int32_t>(job.src.row_stride));
  for (int j = j_begin; j < j_end; j += V::kLanes) {
    const F fj = V::add(V::set1(static_cast<float>(j)), V::iota());
    const F sx = V::add(V::mul(m0, fj), bx);
    const F sy = V::add(V::mul(m3, fj), by);
    Taps<V> t;
    I x0, x1, y0, y1;
    // Taps are confined to the content window: shift it to the origin for axis_taps.
    axis_taps<V>(V::sub(sx, V::set1(static_cast<float>(job.tap_x0))), job.tap_x1 - job.tap_x0 + 1, job.border,
                 x0, x1, t.wx0, t.wx1);
    axis_taps<V>(V::sub(sy, V::set1(static_cast<float>(job.tap_y0))), job.tap_y1 - job.tap_y0 + 1, job.border,
                 y0, y1, t.wy0, t.wy1);
    if (job.border == Border::replicate) {
      t.wy0 = V::keep_if_within(t.wy0, sx, V::set1(job.valid_x0), V::set1(job.valid_x1));
      t.wy1 = V::keep_if_within(t.wy1, sx, V::set1(job.valid_x0), V::set1(job.valid_x1));
      t.wy0 = V::keep_if_within(t.wy0, sy, V::set1(job.valid_y0), V::set1(job.valid_y1));
      t.wy1 = V::keep_if_within(t.wy1, sy, V::set1(job.valid_y0), V::set1(job.valid_y1));
    }
    x0 = V::mulli(V::addi(x0, V::seti(job.tap_x0)), col_stride);
    x1 = V::mulli(V::addi(x1, V::seti(job.tap_x0)), col_stride);
    y0 = V::mulli(V::addi(y0, V::seti(job.tap_y0)), row_stride);
    y1 = V::mulli(V::addi(y1, V::seti(job.tap_y0)), row_stride);
    const float* base = job.src.data;
    const F value = bilinear<V>(V::gather_f32(base, V::addi(y0, x0)), V::gather_f32(base, V::addi(y0, x1)),
                                V::gather_f32(base, V::addi(y1, x0)), V::gather_f32(base, V::addi(y1, x1)), t);
    store_mask_values<V>(job, int64_t{i} * job.width + j, value);
  }
}

template <class V>
void resample_mask_affine(const ResampleMaskJob& job) {
  const int vector_end = job.width - job.width % V::kLanes;
  for (int i = 0; i < job.height; ++i) {
    resample_mask_affine_span<V>(job, i, 0, vector_end);
    resample_mask_affine_span<simd::ScalarOps>(job, i, vector_end, job.width);
  }
}

}  // namespace
}  // namespace edgevision::kernels
