// Bilinear sampling of an interleaved uint8 image through an affine map into a tensor.
// Included by each cpp/src/simd/table_<isa>.cpp after its Ops header.
#pragma once

#include "kernels/jobs.hpp"
#include "simd/ops_scalar.hpp"

namespace edgevision::kernels {
namespace {

// Source taps and weights of one bilinear sample (per lane).
template <class V>
struct Taps {
  typename V::I off00, off01, off10, off11;
  typename V::F wx0, wx1, wy0, wy1;
};

// Positions are clamped to [-2, size + 1] first: past that, every tap is outside the image
// either way, and the float-to-int conversion stays defined.
template <class V>
inline void axis_taps(typename V::F pos, int size, Border border, typename V::I& i0, typename V::I& i1,
                      typename V::F& w0, typename V::F& w1) {
  using F = typename V::F;
  pos = V::min(V::max(pos, V::set1(-2.0f)), V::set1(static_cast<float>(size) + 1.0f));
  const F floor_pos = V::floor(pos);
  const F frac = V::sub(pos, floor_pos);
  w1 = frac;
  w0 = V::sub(V::set1(1.0f), frac);
  i0 = V::to_int(floor_pos);
  i1 = V::addi(i0, V::seti(1));
  const auto lo = V::seti(0), hi = V::seti(size - 1);
  if (border == Border::zero) {
    w0 = V::keep_if_within(w0, i0, lo, hi);
    w1 = V::keep_if_within(w1, i1, lo, hi);
  }
  i0 = V::mini(V::maxi(i0, lo), hi);
  i1 = V::mini(V::maxi(i1, lo), hi);
}

template <class V>
inline Taps<V> image_taps(const SampleImageJob& job, typename V::F sx, typename V::F sy) {
  Taps<V> t;
  typename V::I x0, x1, y0, y1;
  axis_taps<V>(sx, job.src.width, job.border, x0, x1, t.wx0, t.wx1);
  axis_taps<V>(sy, job.src.height, job.border, y0, y1, t.wy0, t.wy1);
  const auto ps = V::seti(static_cast<int32_t>(job.src.pixel_stride));
  const auto rs = V::seti(static_cast<int32_t>(job.src.row_stride));
  x0 = V::mulli(x0, ps);
  x1 = V::mulli(x1, ps);
  y0 = V::mulli(y0, rs);
  y1 = V::mulli(y1, rs);
  t.off00 = V::addi(y0, x0);
  t.off01 = V::addi(y0, x1);
  t.off10 = V::addi(y1, x0);
  t.off11 = V::addi(y1, x1);
  return t;
}

// The one bilinear formula every path uses, in this order (tests compare paths bit for bit).
template <class V>
inline typename V::F bilinear(typename V::F p00, typename V::F p01, typename V::F p10, typename V::F p11,
                              const Taps<V>& t) {
  const auto top = V::add(V::mul(p00, t.wx0), V::mul(p01, t.wx1));
  const auto bottom = V::add(V::mul(p10, t.wx0), V::mul(p11, t.wx1));
  return V::add(V::mul(top, t.wy0), V::mul(bottom, t.wy1));
}

// Tensor pixels [j_begin, j_end) of row i, kLanes at a time (j_end - j_begin divisible by it).
template <class V>
void sample_image_span(const SampleImageJob& job, int i, int j_begin, int j_end) {
  using F = typename V::F;
  const float* m = job.map.m;
  const float fi = static_cast<float>(i);
  const F bx = V::set1(m[1] * fi + m[2]);
  const F by = V::set1(m[4] * fi + m[5]);
  const F m0 = V::set1(m[0]), m3 = V::set1(m[3]);
  const F scale = V::set1(job.scale), offset = V::set1(job.offset);
  const uint8_t* base = job.src.data;
  const int64_t plane = int64_t{job.width} * job.height;

  for (int j = j_begin; j < j_end; j += V::kLanes) {
    const F fj = V::add(V::set1(static_cast<float>(j)), V::iota());
    const Taps<V> t = image_taps<V>(job, V::add(V::mul(m0, fj), bx), V::add(V::mul(m3, fj), by));
    const auto w00 = V::gather_u32(base, t.off00, job.last_word);
    const auto w01 = V::gather_u32(base, t.off01, job.last_word);
    const auto w10 = V::gather_u32(base, t.off10, job.last_word);
    const auto w11 = V::gather_u32(base, t.off11, job.last_word);
    F value[3];
    for (int c = 0; c < 3; ++c) {
      const int s = job.channel_shift[c];
      value[c] = bilinear<V>(V::byte_to_float(w00, s), V::byte_to_float(w01, s), V::byte_to_float(w10, s),
                             V::byte_to_float(w11, s), t);
    }
    const int64_t pixel = int64_t{i} * job.width + j;
    if (job.type == ElementType::float32) {
      for (F& v : value) v = V::add(V::mul(v, scale), offset);
      float* out = static_cast<float*>(job.out);
      if (job.layout == Layout::nhwc) {
        V::store_interleaved3(out + 3 * pixel, value[0], value[1], value[2]);
      } else {
        for (int c = 0; c < 3; ++c) V::store(out + c * plane + pixel, value[c]);
      }
    } else {
      uint8_t* out = static_cast<uint8_t*>(job.out);
      if (job.layout == Layout::nhwc) {
        V::store_interleaved3_u8(out + 3 * pixel, value[0], value[1], value[2]);
      } else {
        for (int c = 0; c < 3; ++c) V::store_u8(out + c * plane + pixel, value[c]);
      }
    }
  }
}

template <class V>
void sample_image(const SampleImageJob& job) {
  const PixelRect& c = job.content;
  const int count = c.x1 - c.x0;
  const int vector_end = c.x0 + count - count % V::kLanes;
  for (int i = c.y0; i < c.y1; ++i) {
    sample_image_span<V>(job, i, c.x0, vector_end);
    sample_image_span<simd::ScalarOps>(job, i, vector_end, c.x1);
  }
}

}  // namespace
}  // namespace edgevision::kernels
