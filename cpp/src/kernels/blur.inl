// Fast large-sigma Gaussian for background blur: box-average downsample, then an exact
// separable Gaussian at low resolution (the blend upsamples it). Included after sample_image.inl.
#pragma once

#include "kernels/jobs.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

inline int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

template <class V>
void accumulate_source_row(const BoxDownsampleJob& job, int y, bool first, int k_begin, int k_end) {
  const ImageView& s = job.src;
  const int64_t row_offset = y * s.row_stride;
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    typename V::F v;
    if (job.elem_off == nullptr) {
      v = V::load_u8(s.data + row_offset + k);
    } else {
      const auto off = V::addi(V::seti(static_cast<int32_t>(row_offset)), V::loadi(job.elem_off + k));
      v = V::byte_to_float(V::gather_u32(s.data, off, job.last_word), 0);
    }
    V::store(job.row_sum + k, first ? v : V::add(V::load(job.row_sum + k), v));
  }
}

template <class V>
void box_row(const BoxDownsampleJob& job, float* out, float norm, int m_begin, int m_end) {
  const int low_n = job.low_w * job.src.channels;
  for (int m = m_begin; m < m_end; m += V::kLanes) {
    auto sum = V::gather_f32(job.row_sum, V::loadi(job.box_taps + m));
    for (int t = 1; t < job.factor; ++t)
      sum = V::add(sum, V::gather_f32(job.row_sum, V::loadi(job.box_taps + t * low_n + m)));
    V::store(out + m, V::mul(sum, V::set1(norm)));
  }
}

template <class V>
void box_downsample(const BoxDownsampleJob& job) {
  const int n = job.src.width * job.src.channels;
  const int n_vec = n - n % V::kLanes;
  const int low_n = job.low_w * job.src.channels;
  const float norm = 1.0f / static_cast<float>(job.factor * job.factor);
  for (int ly = 0; ly < job.low_h; ++ly) {
    for (int t = 0; t < job.factor; ++t) {
      const int y = ly * job.factor + t < job.src.height ? ly * job.factor + t : job.src.height - 1;
      accumulate_source_row<V>(job, y, t == 0, 0, n_vec);
      accumulate_source_row<simd::ScalarOps>(job, y, t == 0, n_vec, n);
    }
    float* out = job.out + int64_t{ly} * low_n;
    box_row<simd::ScalarOps>(job, out, norm, 0, low_n);  // gathers: scalar loads are faster
  }
}

// dst[k] = sum_t w[t] * src[k + t * step], t = 0 .. taps-1, in that order.
template <class V>
void convolve_flat(const float* src, float* dst, int64_t step, const float* w, int taps, int k_begin, int k_end) {
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    auto acc = V::mul(V::load(src + k), V::set1(w[0]));
    for (int t = 1; t < taps; ++t) acc = V::add(acc, V::mul(V::load(src + k + t * step), V::set1(w[t])));
    V::store(dst + k, acc);
  }
}

// Vertical pass: dst row y = sum_t w[t] * src row reflect(y + t - radius).
template <class V>
void convolve_rows(const GaussianBlurJob& job, const float* src, float* dst, int y, int k_begin, int k_end) {
  const int64_t row_n = int64_t{job.width} * job.channels;
  const int taps = 2 * job.radius + 1;
  for (int k = k_begin; k < k_end; k += V::kLanes) {
    auto acc = V::mul(V::load(src + reflect101(y - job.radius, job.height) * row_n + k), V::set1(job.weights[0]));
    for (int t = 1; t < taps; ++t) {
      const float* row = src + reflect101(y + t - job.radius, job.height) * row_n;
      acc = V::add(acc, V::mul(V::load(row + k), V::set1(job.weights[t])));
    }
    V::store(dst + k, acc);
  }
}

template <class V>
void gaussian_blur(const GaussianBlurJob& job) {
  const int c = job.channels, r = job.radius, taps = 2 * r + 1;
  const int row_n = job.width * c;
  const int row_vec = row_n - row_n % V::kLanes;
  for (int y = 0; y < job.height; ++y) {
    const float* row = job.image + int64_t{y} * row_n;
    for (int x = -r; x < job.width + r; ++x) {
      const float* px = row + reflect101(x, job.width) * c;
      for (int ch = 0; ch < c; ++ch) job.padded_row[(x + r) * c + ch] = px[ch];
    }
    float* dst = job.column_tmp + int64_t{y} * row_n;
    convolve_flat<V>(job.padded_row, dst, c, job.weights, taps, 0, row_vec);
    convolve_flat<simd::ScalarOps>(job.padded_row, dst, c, job.weights, taps, row_vec, row_n);
  }
  for (int y = 0; y < job.height; ++y) {
    float* dst = job.image + int64_t{y} * row_n;
    convolve_rows<V>(job, job.column_tmp, dst, y, 0, row_vec);
    convolve_rows<simd::ScalarOps>(job, job.column_tmp, dst, y, row_vec, row_n);
  }
}

}  // namespace
}  // namespace edgevision::kernels
