// SAM 2's random Fourier features over an Ops type (simd/ops_<isa>.hpp): sin and cos of
// 2 pi (c . g) for the 128 frequencies, with our own float32 sin/cos so that every ISA
// computes the same operations in the same order (bit-identical paths; libm's sinf/cosf are
// scalar and differ between platforms). Error against exact sin/cos: ~1e-7 for the angles a
// prompt gives (|angle| < 2 pi * |g| * 2, tested up to 100).
#pragma once

#include <cstdint>

#include "edgevision/sam2.hpp"

namespace edgevision::sam2_kernels {
namespace {

// float32(2 * pi): the reference multiplies a float32 tensor by the Python float 2*pi.
constexpr float kTwoPi = 6.2831855f;
constexpr float kTwoOverPi = 0.63661977f;
// pi / 2 in three parts (Cody-Waite), the first two exact in few bits, so that x - j * part
// loses nothing for the quadrant counts j of these angles.
constexpr float kHalfPi1 = 1.5703125f;
constexpr float kHalfPi2 = 4.837512969970703125e-4f;
constexpr float kHalfPi3 = 7.54978995489188216e-8f;
// Minimax polynomials on [-pi/4, pi/4] (Cephes sinf/cosf).
constexpr float kSin1 = -1.6666654611e-1f, kSin2 = 8.3321608736e-3f, kSin3 = -1.9515295891e-4f;
constexpr float kCos1 = 4.166664568298827e-2f, kCos2 = -1.388731625493765e-3f, kCos3 = 2.443315711809948e-5f;

template <class V>
inline void sin_cos(typename V::F x, typename V::F& sin_x, typename V::F& cos_x) {
  using F = typename V::F;
  const F j = V::floor(V::add(V::mul(x, V::set1(kTwoOverPi)), V::set1(0.5f)));  // nearest quadrant
  const auto quadrant = V::andi(V::to_int(j), V::seti(3));  // two's complement: also for j < 0
  F y = V::sub(x, V::mul(j, V::set1(kHalfPi1)));
  y = V::sub(y, V::mul(j, V::set1(kHalfPi2)));
  y = V::sub(y, V::mul(j, V::set1(kHalfPi3)));
  const F z = V::mul(y, y);
  const F s_poly = V::add(V::mul(V::add(V::mul(V::set1(kSin3), z), V::set1(kSin2)), z), V::set1(kSin1));
  const F s = V::add(y, V::mul(V::mul(y, z), s_poly));
  const F c_poly = V::add(V::mul(V::add(V::mul(V::set1(kCos3), z), V::set1(kCos2)), z), V::set1(kCos1));
  const F c = V::add(V::sub(V::set1(1.0f), V::mul(V::set1(0.5f), z)), V::mul(V::mul(z, z), c_poly));
  // Quadrant q: sin = s, c, -s, -c and cos = c, -s, -c, s.
  const auto one = V::seti(1), two = V::seti(2);
  const auto odd = V::cmpeqi(V::andi(quadrant, one), one);
  const F zero = V::set1(0.0f);
  const F sin_base = V::select(odd, c, s), cos_base = V::select(odd, s, c);
  sin_x = V::select(V::cmpeqi(V::andi(quadrant, two), two), V::sub(zero, sin_base), sin_base);
  cos_x = V::select(V::cmpeqi(V::andi(V::addi(quadrant, one), two), two), V::sub(zero, cos_base), cos_base);
}

// out[k] = sin(a_k), out[k + 128] = cos(a_k), a_k = 2 pi (cx g[0][k] + cy g[1][k]).
template <class V>
void fourier_features(float cx, float cy, const float* gaussian, float* out) {
  const float* gx = gaussian;
  const float* gy = gaussian + kSam2Frequencies;
  const auto vx = V::set1(cx), vy = V::set1(cy), two_pi = V::set1(kTwoPi);
  for (int k = 0; k < kSam2Frequencies; k += V::kLanes) {
    const auto angle = V::mul(two_pi, V::add(V::mul(vx, V::load(gx + k)), V::mul(vy, V::load(gy + k))));
    typename V::F s, c;
    sin_cos<V>(angle, s, c);
    V::store(out + k, s);
    V::store(out + k + kSam2Frequencies, c);
  }
}

}  // namespace
}  // namespace edgevision::sam2_kernels
