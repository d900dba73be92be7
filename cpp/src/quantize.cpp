#include "edgevision/quantize.hpp"

#include <limits>

namespace edgevision {

namespace {

// Adding then subtracting 1.5 * 2^23 rounds |v| <= 2^22 to an integer, ties to even, in the
// default rounding mode: the same rule as nearbyint, but it vectorises without SSE4.1.
constexpr float kRoundMagic = 12582912.0f;

template <class Q>
struct Quantizer {
  float scale;
  float lo;  // qmin - zero_point: clamping before rounding equals saturating after it
  float hi;  // qmax - zero_point
  int32_t zero_point;

  explicit Quantizer(QuantParams p)
      : scale(p.scale),
        lo(static_cast<float>(std::numeric_limits<Q>::min() - p.zero_point)),
        hi(static_cast<float>(std::numeric_limits<Q>::max() - p.zero_point)),
        zero_point(p.zero_point) {}

  Q operator()(float x) const {
    float v = x / scale;  // a division, like ONNX Runtime, not a multiply by 1/scale
    v = v == v ? v : 0.0f;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    v = (v + kRoundMagic) - kRoundMagic;
    return static_cast<Q>(static_cast<int32_t>(v) + zero_point);
  }

  void row(const float* src, int64_t stride, Q* dst, int64_t n) const {
    if (stride == 1) {
      for (int64_t i = 0; i < n; ++i) dst[i] = (*this)(src[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) dst[i] = (*this)(src[i * stride]);
    }
  }
};

template <class Q>
struct Dequantizer {
  float scale;
  int32_t zero_point;

  explicit Dequantizer(QuantParams p) : scale(p.scale), zero_point(p.zero_point) {}

  void row(const Q* src, int64_t stride, float* dst, int64_t n) const {
    if (stride == 1) {
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<int32_t>(src[i]) - zero_point) * scale;
    } else {
      for (int64_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(static_cast<int32_t>(src[i * stride]) - zero_point) * scale;
    }
  }
};

// Merges axes that are contiguous with each other, so a C-contiguous array is one row.
StridedShape collapse(const StridedShape& in) {
  StridedShape out;
  for (int k = 0; k < in.ndim; ++k) {
    if (in.shape[k] == 1) continue;
    if (out.ndim > 0 && out.strides[out.ndim - 1] == in.strides[k] * in.shape[k]) {
      out.shape[out.ndim - 1] *= in.shape[k];
      out.strides[out.ndim - 1] = in.strides[k];
    } else {
      out.shape[out.ndim] = in.shape[k];
      out.strides[out.ndim] = in.strides[k];
      ++out.ndim;
    }
  }
  if (out.ndim == 0) {  // a scalar or all-ones shape: one element
    out.ndim = 1;
    out.shape[0] = 1;
    out.strides[0] = 1;
  }
  return out;
}

// Calls row(src_row, stride, dst_row, n) for every innermost row, in C order.
template <class S, class D, class Row>
void for_each_row(const S* src, const StridedShape& layout, D* dst, const Row& row) {
  if (layout.elements() == 0) return;
  const StridedShape s = collapse(layout);
  const int inner = s.ndim - 1;
  const int64_t n = s.shape[inner];
  int64_t index[kMaxQuantizeDims] = {};
  int64_t offset = 0;
  for (;;) {
    row(src + offset, s.strides[inner], dst, n);
    dst += n;
    int k = inner - 1;
    for (; k >= 0; --k) {  // odometer over the outer axes
      offset += s.strides[k];
      if (++index[k] < s.shape[k]) break;
      offset -= s.strides[k] * s.shape[k];
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

template <class Q>
void quantize_any(const float* src, const StridedShape& layout, Q* dst, QuantParams params) {
  const Quantizer<Q> q(params);
  for_each_row(src, layout, dst, [&](const float* s, int64_t stride, Q* d, int64_t n) { q.row(s, stride, d, n); });
}

template <class Q>
void dequantize_any(const Q* src, const StridedShape& layout, float* dst, QuantParams params) {
  const Dequantizer<Q> dq(params);
  for_each_row(src, layout, dst, [&](const Q* s, int64_t stride, float* d, int64_t n) { dq.row(s, stride, d, n); });
}

}  // namespace

int64_t StridedShape::elements() const {
  int64_t n = 1;
  for (int k = 0; k < ndim; ++k) n *= shape[k];
  return n;
}

void quantize(const float* src, const StridedShape& layout, uint8_t* dst, QuantParams params) {
  quantize_any(src, layout, dst, params);
}
void quantize(const float* src, const StridedShape& layout, int8_t* dst, QuantParams params) {
  quantize_any(src, layout, dst, params);
}
void dequantize(const uint8_t* src, const StridedShape& layout, float* dst, QuantParams params) {
  dequantize_any(src, layout, dst, params);
}
void dequantize(const int8_t* src, const StridedShape& layout, float* dst, QuantParams params) {
  dequantize_any(src, layout, dst, params);
}

}  // namespace edgevision
