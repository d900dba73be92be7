// Float bilinear taps: positions to clamped indices and weights, and the one bilinear formula
// the float-plane kernels share (mask resampling, composite upsampling tables).
#pragma once

#include "edgevision/types.hpp"
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

// The one bilinear formula every path uses, in this order (tests compare paths bit for bit).
template <class V>
inline typename V::F bilinear(typename V::F p00, typename V::F p01, typename V::F p10, typename V::F p11,
                              const Taps<V>& t) {
  const auto top = V::add(V::mul(p00, t.wx0), V::mul(p01, t.wx1));
  const auto bottom = V::add(V::mul(p10, t.wx0), V::mul(p11, t.wx1));
  return V::add(V::mul(top, t.wy0), V::mul(bottom, t.wy1));
}

}  // namespace
}  // namespace edgevision::kernels
