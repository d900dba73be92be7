// Fast large-sigma Gaussian for background blur: box-average downsample into float planes, then
// an exact separable Gaussian per plane at low resolution (the blend upsamples it). Included
// after sample_image.inl.
#pragma once

#include <algorithm>
#include <cstring>

#include "kernels/jobs.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

inline int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

// column_sum[k] = sum of element k over the `factor` source rows of low row ly (int16: at most
// 32 * 255).
template <class V>
void sum_source_rows(const BoxDownsampleJob& job, int ly, int n) {
  const ImageView& s = job.src;
  const uint8_t* rows[32];
  for (int t = 0; t < job.factor; ++t) rows[t] = s.data + std::min(ly * job.factor + t, s.height - 1) * s.row_stride;
  int16_t* sum = job.column_sum;
  if (job.elem_off != nullptr) {
    for (int k = 0; k < n; ++k) {
      int32_t total = 0;
      for (int t = 0; t < job.factor; ++t) total += rows[t][job.elem_off[k]];
      sum[k] = static_cast<int16_t>(total);
    }
    return;
  }
  const int vector_end = n - n % V::kLanes16;
  for (int k = 0; k < vector_end; k += V::kLanes16) {
    auto total = V::load_u8_i16(rows[0] + k);
    for (int t = 1; t < job.factor; ++t) total = V::addq(total, V::load_u8_i16(rows[t] + k));
    V::store_q(sum + k, total);
  }
  for (int k = vector_end; k < n; ++k) {
    int32_t total = 0;
    for (int t = 0; t < job.factor; ++t) total += rows[t][k];
    sum[k] = static_cast<int16_t>(total);
  }
}

template <class V>
void box_downsample(const BoxDownsampleJob& job) {
  const int C = job.src.channels, W = job.src.width, f = job.factor, n = W * C;
  const int64_t plane = int64_t{job.low_w} * job.low_h;
  const float norm = 1.0f / static_cast<float>(f * f);
  const int full_blocks = W / f;
  // Blocks of f x f bytes sum within uint16 up to f = 16: sum the f columns of every element
  // at once (k .. k + f*C in steps of C), then keep each block's first element.
  const bool wide_sums = f <= 16;
  const int block_end = full_blocks * f * C;
  const int vector_end = block_end - block_end % V::kLanes16;
  uint16_t* block_sum = reinterpret_cast<uint16_t*>(job.block_sum);
  for (int ly = job.row_begin; ly < job.row_end; ++ly) {
    sum_source_rows<V>(job, ly, n);
    const int16_t* sum = job.column_sum;
    float* out = job.out + int64_t{ly} * job.low_w;
    if (wide_sums) {
      for (int k = 0; k < vector_end; k += V::kLanes16) {
        auto total = V::load_q(sum + k);
        for (int t = 1; t < f; ++t) total = V::addq(total, V::load_q(sum + k + t * C));
        V::store_q(job.block_sum + k, total);
      }
      const int block = f * C;
      for (int k = vector_end / block * block; k < block_end; k += block) {  // blocks the vectors did not finish
        for (int c = 0; c < C; ++c) {
          int32_t total = 0;
          for (int t = 0; t < f; ++t) total += sum[k + c + t * C];
          block_sum[k + c] = static_cast<uint16_t>(total);
        }
      }
      for (int c = 0; c < C; ++c) {
        float* dst = out + c * plane;
        for (int lx = 0; lx < full_blocks; ++lx) dst[lx] = static_cast<float>(block_sum[lx * f * C + c]) * norm;
      }
    } else {
      for (int c = 0; c < C; ++c) {
        float* dst = out + c * plane;
        for (int lx = 0; lx < full_blocks; ++lx) {
          int32_t total = 0;
          for (int t = 0; t < f; ++t) total += sum[(lx * f + t) * C + c];
          dst[lx] = static_cast<float>(total) * norm;
        }
      }
    }
    for (int c = 0; c < C; ++c) {
      float* dst = out + c * plane;
      for (int lx = full_blocks; lx < job.low_w; ++lx) {  // a partial block repeats the last pixel
        int32_t total = 0;
        for (int t = 0; t < f; ++t) total += sum[std::min(lx * f + t, W - 1) * C + c];
        dst[lx] = static_cast<float>(total) * norm;
      }
    }
  }
}

// Both passes sum taps*weights in tap order per element. Four vectors run side by side: each
// element's sum is a chain of `taps` dependent adds, so one vector at a time would wait on the
// add latency (the blur ran 3-4x slower).
template <class V>
void convolve_flat(const float* src, float* dst, const float* w, int taps, int k_begin, int k_end) {
  constexpr int L = V::kLanes;
  int k = k_begin;
  for (; k + 4 * L <= k_end; k += 4 * L) {
    const auto w0 = V::set1(w[0]);
    auto a0 = V::mul(V::load(src + k), w0), a1 = V::mul(V::load(src + k + L), w0);
    auto a2 = V::mul(V::load(src + k + 2 * L), w0), a3 = V::mul(V::load(src + k + 3 * L), w0);
    for (int t = 1; t < taps; ++t) {
      const auto wt = V::set1(w[t]);
      const float* p = src + k + t;
      a0 = V::add(a0, V::mul(V::load(p), wt));
      a1 = V::add(a1, V::mul(V::load(p + L), wt));
      a2 = V::add(a2, V::mul(V::load(p + 2 * L), wt));
      a3 = V::add(a3, V::mul(V::load(p + 3 * L), wt));
    }
    V::store(dst + k, a0);
    V::store(dst + k + L, a1);
    V::store(dst + k + 2 * L, a2);
    V::store(dst + k + 3 * L, a3);
  }
  for (; k < k_end; k += L) {
    auto acc = V::mul(V::load(src + k), V::set1(w[0]));
    for (int t = 1; t < taps; ++t) acc = V::add(acc, V::mul(V::load(src + k + t), V::set1(w[t])));
    V::store(dst + k, acc);
  }
}

// Vertical pass: dst[k] = sum_t w[t] * rows[t][k].
template <class V>
void convolve_rows(const float* const* rows, const float* w, int taps, float* dst, int k_begin, int k_end) {
  constexpr int L = V::kLanes;
  int k = k_begin;
  for (; k + 4 * L <= k_end; k += 4 * L) {
    const auto w0 = V::set1(w[0]);
    const float* r0 = rows[0] + k;
    auto a0 = V::mul(V::load(r0), w0), a1 = V::mul(V::load(r0 + L), w0);
    auto a2 = V::mul(V::load(r0 + 2 * L), w0), a3 = V::mul(V::load(r0 + 3 * L), w0);
    for (int t = 1; t < taps; ++t) {
      const auto wt = V::set1(w[t]);
      const float* p = rows[t] + k;
      a0 = V::add(a0, V::mul(V::load(p), wt));
      a1 = V::add(a1, V::mul(V::load(p + L), wt));
      a2 = V::add(a2, V::mul(V::load(p + 2 * L), wt));
      a3 = V::add(a3, V::mul(V::load(p + 3 * L), wt));
    }
    V::store(dst + k, a0);
    V::store(dst + k + L, a1);
    V::store(dst + k + 2 * L, a2);
    V::store(dst + k + 3 * L, a3);
  }
  for (; k < k_end; k += L) {
    auto acc = V::mul(V::load(rows[0] + k), V::set1(w[0]));
    for (int t = 1; t < taps; ++t) acc = V::add(acc, V::mul(V::load(rows[t] + k), V::set1(w[t])));
    V::store(dst + k, acc);
  }
}

template <class V>
void gaussian_blur(const GaussianBlurJob& job) {
  const int r = job.radius, taps = 2 * r + 1, width = job.width;
  const int vector_end = width - width % V::kLanes;
  for (int y = 0; y < job.height; ++y) {
    const float* row = job.image + int64_t{y} * width;
    for (int x = -r; x < 0; ++x) job.padded_row[x + r] = row[reflect101(x, width)];
    std::memcpy(job.padded_row + r, row, sizeof(float) * width);
    for (int x = width; x < width + r; ++x) job.padded_row[x + r] = row[reflect101(x, width)];
    float* dst = job.column_tmp + int64_t{y} * width;
    convolve_flat<V>(job.padded_row, dst, job.weights, taps, 0, vector_end);
    convolve_flat<simd::ScalarOps>(job.padded_row, dst, job.weights, taps, vector_end, width);
  }
  for (int y = 0; y < job.height; ++y) {
    for (int t = 0; t < taps; ++t) job.tap_rows[t] = job.column_tmp + int64_t{reflect101(y + t - r, job.height)} * width;
    float* dst = job.image + int64_t{y} * width;
    convolve_rows<V>(job.tap_rows, job.weights, taps, dst, 0, vector_end);
    convolve_rows<simd::ScalarOps>(job.tap_rows, job.weights, taps, dst, vector_end, width);
  }
}

}  // namespace
}  // namespace edgevision::kernels
