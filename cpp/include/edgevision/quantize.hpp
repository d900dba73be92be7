// Affine (de)quantisation of model inputs and outputs: real = scale * (q - zero_point).
//
// Quantise: q = saturate(round_half_even(x / scale) + zero_point), the rule of ONNX's
// QuantizeLinear (and of ONNX Runtime's and XNNPACK's kernels); NaN maps to zero_point.
// Dequantise: x = float(q - zero_point) * scale, exact for 8-bit q.
#pragma once

#include <cstdint>

namespace edgevision {

struct QuantParams {
  float scale = 1.0f;  // > 0, finite
  int32_t zero_point = 0;  // within the integer type's range
};

// An n-d array walked in C order. Strides in elements (any sign); the output is contiguous.
constexpr int kMaxQuantizeDims = 8;
struct StridedShape {
  int ndim = 0;
  int64_t shape[kMaxQuantizeDims] = {};
  int64_t strides[kMaxQuantizeDims] = {};

  int64_t elements() const;
};

void quantize(const float* src, const StridedShape& layout, uint8_t* dst, QuantParams params);
void quantize(const float* src, const StridedShape& layout, int8_t* dst, QuantParams params);
void dequantize(const uint8_t* src, const StridedShape& layout, float* dst, QuantParams params);
void dequantize(const int8_t* src, const StridedShape& layout, float* dst, QuantParams params);

}  // namespace edgevision
