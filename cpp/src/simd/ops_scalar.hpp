// Scalar "vector" of one lane: the reference every SIMD path must equal bit for bit.
// Kernels are templates over an Ops type; this one also handles every row tail.
#pragma once

#include <cstdint>
#include <cstring>

namespace edgevision::simd {
namespace {  // internal linkage: one private copy per ISA translation unit

struct ScalarOps {
  static constexpr bool kPixelMajorNhwc = false;  // see Avx2Ops::sample_nhwc_rows
  static constexpr int kLanes = 1;
  using F = float;
  using I = int32_t;

  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  static F set1(float v) { return v; }
  static F iota() { return 0.0f; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  // Operand order as x86 minps/maxps: with a NaN, the second operand is returned.
  static F min(F a, F b) { return a < b ? a : b; }
  static F max(F a, F b) { return a > b ? a : b; }
  static F div(F a, F b) { return a / b; }
  // 2^n for integer n in [-127, 127] (2^-127 comes out as 0): the exponent field set directly.
  static F pow2i(I n) {
    const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static F floor(F a) { return __builtin_floorf(a); }
  // `a` must already be integral and within int32 range.
  static I to_int(F a) { return static_cast<int32_t>(a); }
  static F to_float(I a) { return static_cast<float>(a); }

  static I loadi(const int32_t* p) { return *p; }
  static I seti(int32_t v) { return v; }
  static I addi(I a, I b) { return a + b; }
  static I mulli(I a, I b) { return a * b; }
  static I mini(I a, I b) { return a < b ? a : b; }
  static I maxi(I a, I b) { return a > b ? a : b; }
  static I subi(I a, I b) { return a - b; }
  static I andi(I a, I b) { return a & b; }
  static I ori(I a, I b) { return a | b; }
  static I cmpeqi(I a, I b) { return a == b ? -1 : 0; }
  static I slli16(I a) { return static_cast<int32_t>(static_cast<uint32_t>(a) << 16); }
  static void storei(int32_t* p, I v) { *p = v; }
  static bool any_greater(I a, int32_t limit) { return a > limit; }
  // Round half to even (the default FP mode, as cvtps2dq and fcvtns do).
  // 0 <= x <= hi in every lane.
  static bool all_within(I x, I hi) { return x >= 0 && x <= hi; }
  static I round_to_int(F a) { return static_cast<int32_t>(__builtin_nearbyintf(a)); }
  static I keepi_if_within(I v, I x, I lo, I hi) { return (x >= lo && x <= hi) ? v : 0; }

  // Pixel pairs (see kernels/sample_image.inl): h[c] = p0[c] * a0 + p1[c] * a1, with
  // weights = a0 | a1 << 16, p0 at base + off[0] and p1 one pixel stride further.
  struct PixelShuffle {
    int pixel_stride;
    int channel_byte[3];
  };
  static PixelShuffle pixel_shuffle(int pixel_stride, const int channel_byte[3]) {
    return {pixel_stride, {channel_byte[0], channel_byte[1], channel_byte[2]}};
  }
  static int pair_read_bytes(int) { return 0; }  // reads only the bytes it uses
  static void horizontal_pairs(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                               F h[3]) {
    const int32_t a0 = weights & 0xffff, a1 = weights >> 16;
    const uint8_t* p0 = base + off[0];
    for (int c = 0; c < 3; ++c) {
      int32_t sum = p0[s.channel_byte[c]] * a0;
      // A zero weight may belong to a column past the image (one-column images).
      if (a1 != 0) sum += p0[s.pixel_stride + s.channel_byte[c]] * a1;
      h[c] = static_cast<float>(sum);
    }
  }

  // v where lo <= x <= hi, else 0.
  static F keep_if_within(F v, I x, I lo, I hi) { return (x >= lo && x <= hi) ? v : 0.0f; }
  static F keep_if_within(F v, F x, F lo, F hi) { return (x >= lo && x <= hi) ? v : 0.0f; }

  // Lane x of `window` for each lane of idx.
  static F permute(F window, I) { return window; }
  static F gather_f32(const float* base, I off) { return base[off]; }
  static F load_u8(const uint8_t* p) { return static_cast<float>(*p); }

  static void store_interleaved3(float* dst, F a, F b, F c) {
    dst[0] = a;
    dst[1] = b;
    dst[2] = c;
  }
  // Round half to even (the default FP mode, as the SIMD conversions do), saturated.
  static uint8_t round_u8(F v) {
    return static_cast<uint8_t>(__builtin_nearbyintf(max(min(v, 255.0f), 0.0f)));
  }
  static void store_u8(uint8_t* dst, F v) { *dst = round_u8(v); }
  static void store_interleaved3_u8(uint8_t* dst, F a, F b, F c) {
    dst[0] = round_u8(a);
    dst[1] = round_u8(b);
    dst[2] = round_u8(c);
  }
  // 1 where v > t, else 0.
  static void store_gt_u8(uint8_t* dst, F v, F t) { *dst = v > t ? 1 : 0; }
  // store_gt_u8 of four consecutive vectors.
  static void store_gt_u8_x4(uint8_t* dst, F v0, F v1, F v2, F v3, F t) {
    store_gt_u8(dst, v0, t);
    store_gt_u8(dst + 1, v1, t);
    store_gt_u8(dst + 2, v2, t);
    store_gt_u8(dst + 3, v3, t);
  }

  // Fixed-point lanes for the composite's blend: int16 values (here held in an int32), images
  // in Q6 (byte * 64), weights in Q15. Integer arithmetic, so every path agrees exactly.
  static constexpr int kLanes16 = 1;
  using Q = int32_t;
  static Q load_q(const int16_t* p) { return *p; }
  static void store_q(int16_t* p, Q v) { *p = static_cast<int16_t>(v); }
  static Q setq(int16_t v) { return v; }
  static Q addq(Q a, Q b) { return static_cast<int16_t>(a + b); }
  static Q subq(Q a, Q b) { return static_cast<int16_t>(a - b); }
  // (a * b + 2^14) >> 15, as pmulhrsw and vqrdmulh (a and b are never both -32768 here).
  static Q mulhrs(Q a, Q b) { return (a * b + 0x4000) >> 15; }
  static Q load_u8_q6(const uint8_t* p) { return int32_t{*p} << 6; }
  // (v + 32) >> 6, saturated to a byte.
  static void store_u8_q6(uint8_t* p, Q v) {
    const int32_t r = (v + 32) >> 6;
    *p = static_cast<uint8_t>(r < 0 ? 0 : r > 255 ? 255 : r);
  }
  static Q saturate_q(float v) {
    const float r = __builtin_nearbyintf(v);
    return r >= 32767.0f ? 32767 : r <= -32768.0f ? -32768 : static_cast<int32_t>(r);
  }
  // Weights: clamp(v, 0, 1) * 32768, rounded half to even, saturated (1 -> 32767).
  static Q q15_weights(const float* p) { return saturate_q(max(min(*p, 1.0f), 0.0f) * 32768.0f); }
  static Q q6_from_floats(const float* p) { return saturate_q(*p * 64.0f); }
  // Each weight three times.
  static void expand3_q(const int16_t* w, int16_t* out) { out[0] = out[1] = out[2] = *w; }
  // 1 where v > t, else 0.
  static F above(F v, F t) { return v > t ? 1.0f : 0.0f; }
  static Q load_u8_i16(const uint8_t* p) { return *p; }
  // a where the lane of `mask` is all ones (cmpeqi's true), else b.
  static F select(I mask, F a, F b) { return mask != 0 ? a : b; }
};

}  // namespace
}  // namespace edgevision::simd
