// MediaPipe's segmentation smoothing over an Ops type: per pixel, with p the new value and q the
// previous one, x = (p - 0.5)^2, u = 1 - min(1, x*(c1 + x*(c2 + x*(c3 + x*(c4 + x*c5))))),
// out = p + (q - p) * (u * ratio). Every path evaluates exactly this, in this order.
#pragma once

#include "kernels/jobs.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

template <class V>
[[gnu::always_inline]] inline typename V::F smoothed(typename V::F p, typename V::F q, typename V::F ratio) {
  // Polynomial fit of the squared uncertainty in terms of (p - 0.5)^2 (MediaPipe's constants).
  const auto c1 = V::set1(5.68842f), c2 = V::set1(-0.748699f), c3 = V::set1(-57.8051f), c4 = V::set1(291.309f),
             c5 = V::set1(-624.717f), one = V::set1(1.0f);
  const auto t = V::sub(p, V::set1(0.5f));
  const auto x = V::mul(t, t);
  const auto fit =
      V::mul(x, V::add(c1, V::mul(x, V::add(c2, V::mul(x, V::add(c3, V::mul(x, V::add(c4, V::mul(x, c5)))))))));
  const auto u = V::sub(one, V::min(fit, one));  // min(fit, 1): 1 for NaN, as std::min(1, fit)
  return V::add(p, V::mul(V::sub(q, p), V::mul(u, ratio)));
}

// One row of `width` contiguous values: out[j] = smoothed(current[j], previous[j]); `out` may
// be `current` (in place).
template <class V>
void smooth_row(const float* current, const float* previous, float* out, int width, float ratio) {
  using S = simd::ScalarOps;
  const int vector_end = width - width % V::kLanes;
  const auto r = V::set1(ratio);
  for (int j = 0; j < vector_end; j += V::kLanes)
    V::store(out + j, smoothed<V>(V::load(current + j), V::load(previous + j), r));
  for (int j = vector_end; j < width; ++j) out[j] = smoothed<S>(current[j], previous[j], ratio);
}

template <class V>
void smooth_mask(const SmoothMaskJob& job) {
  using S = simd::ScalarOps;
  const PlaneView<float>& cur = job.current;
  const PlaneView<float>& prev = job.previous;
  const bool contiguous_rows = cur.col_stride == 1 && prev.col_stride == 1;
  for (int i = 0; i < cur.height; ++i) {
    const float* p = cur.data + i * cur.row_stride;
    const float* q = prev.data + i * prev.row_stride;
    float* out = job.out + int64_t{i} * cur.width;
    if (contiguous_rows) {
      smooth_row<V>(p, q, out, cur.width, job.ratio);
    } else {
      for (int j = 0; j < cur.width; ++j)
        out[j] = smoothed<S>(p[j * cur.col_stride], q[j * prev.col_stride], job.ratio);
    }
  }
}

}  // namespace
}  // namespace edgevision::kernels
