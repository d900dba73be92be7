// quantize/dequantize against the rule written out in doubles: ties to even, saturation, NaN.
#include <cmath>
#include <limits>
#include <vector>

#include "check.hpp"
#include "edgevision/quantize.hpp"

using namespace edgevision;

namespace {

StridedShape vector_shape(int64_t n, int64_t stride = 1) {
  StridedShape s;
  s.ndim = 1;
  s.shape[0] = n;
  s.strides[0] = stride;
  return s;
}

template <class Q>
Q expected_q(float x, QuantParams p) {
  if (std::isnan(x)) return static_cast<Q>(p.zero_point);
  const double v = std::nearbyint(static_cast<double>(x / p.scale)) + p.zero_point;  // default mode: ties to even
  const double lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  return static_cast<Q>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace

TEST(quantize_rounds_ties_to_even_and_saturates) {
  const QuantParams p{0.5f, 3};
  const std::vector<float> x = {0.25f, 0.75f, -0.25f, -0.75f, 1.25f, 1000.0f, -1000.0f, 0.0f,
                                std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                std::nanf(""), 63.75f, -65.25f};
  std::vector<uint8_t> u(x.size());
  std::vector<int8_t> s(x.size());
  quantize(x.data(), vector_shape(static_cast<int64_t>(x.size())), u.data(), p);
  quantize(x.data(), vector_shape(static_cast<int64_t>(x.size())), s.data(), p);
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK_MSG(u[i] == expected_q<uint8_t>(x[i], p), "uint8 element " + std::to_string(i));
    CHECK_MSG(s[i] == expected_q<int8_t>(x[i], p), "int8 element " + std::to_string(i));
  }
  CHECK(u[0] == 3);  // 0.5 ties to 0
  CHECK(u[1] == 5);  // 1.5 ties to 2
  CHECK(s[2] == 3);  // -0.5 ties to -0
  CHECK(s[3] == 1);  // -1.5 ties to -2
}

TEST(quantize_walks_strided_2d_views) {
  // A 3 x 4 view with row stride 9 and column stride -2 into a 27-element buffer.
  std::vector<float> buf(27);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<float>(i) * 0.37f - 4.0f;
  StridedShape s;
  s.ndim = 2;
  s.shape[0] = 3;
  s.shape[1] = 4;
  s.strides[0] = 9;
  s.strides[1] = -2;
  const float* origin = buf.data() + 6;
  const QuantParams p{0.1f, -7};
  std::vector<int8_t> out(12);
  quantize(origin, s, out.data(), p);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) CHECK(out[r * 4 + c] == expected_q<int8_t>(origin[r * 9 - c * 2], p));
}

TEST(dequantize_is_exact) {
  std::vector<uint8_t> q(256);
  for (int i = 0; i < 256; ++i) q[i] = static_cast<uint8_t>(i);
  std::vector<float> x(256);
  const QuantParams p{0.0078125f, 128};
  dequantize(q.data(), vector_shape(256), x.data(), p);
  for (int i = 0; i < 256; ++i) CHECK(x[i] == static_cast<float>((i - 128) * 0.0078125));
  std::vector<uint8_t> back(256);
  quantize(x.data(), vector_shape(256), back.data(), p);
  CHECK(back == q);
}

TEST(quantize_handles_empty_and_scalar) {
  StridedShape empty;
  empty.ndim = 2;
  empty.shape[0] = 0;
  empty.shape[1] = 5;
  uint8_t sentinel = 77;
  quantize(nullptr, empty, &sentinel, {1.0f, 0});
  CHECK(sentinel == 77);
  StridedShape scalar;  // ndim 0: one element
  const float x = 2.6f;
  quantize(&x, scalar, &sentinel, {1.0f, 0});
  CHECK(sentinel == 3);
}
