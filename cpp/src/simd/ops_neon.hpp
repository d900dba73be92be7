// NEON lanes (4 floats) behind the interface of ScalarOps; the aarch64 baseline.
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace edgevision::simd {
namespace {  // internal linkage: one private copy per ISA translation unit

struct NeonOps {
  static constexpr bool kPixelMajorNhwc = false;  // see Avx2Ops::sample_nhwc_rows
  static constexpr int kLanes = 4;
  using F = float32x4_t;
  using I = int32x4_t;

  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F v) { vst1q_f32(p, v); }
  static F set1(float v) { return vdupq_n_f32(v); }
  static F iota() {
    static const float lanes[4] = {0.f, 1.f, 2.f, 3.f};
    return vld1q_f32(lanes);
  }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  // x86 operand order (second operand on NaN), so every path agrees with ScalarOps.
  static F min(F a, F b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static F max(F a, F b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static F div(F a, F b) { return vdivq_f32(a, b); }
  static F pow2i(I n) { return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23)); }
  static F floor(F a) { return vrndmq_f32(a); }
  static I to_int(F a) { return vcvtq_s32_f32(a); }
  static F to_float(I a) { return vcvtq_f32_s32(a); }

  static I loadi(const int32_t* p) { return vld1q_s32(p); }
  static I seti(int32_t v) { return vdupq_n_s32(v); }
  static I addi(I a, I b) { return vaddq_s32(a, b); }
  static I mulli(I a, I b) { return vmulq_s32(a, b); }
  static I mini(I a, I b) { return vminq_s32(a, b); }
  static I maxi(I a, I b) { return vmaxq_s32(a, b); }
  static I subi(I a, I b) { return vsubq_s32(a, b); }
  static I andi(I a, I b) { return vandq_s32(a, b); }
  static I ori(I a, I b) { return vorrq_s32(a, b); }
  static I cmpeqi(I a, I b) { return vreinterpretq_s32_u32(vceqq_s32(a, b)); }
  static I slli16(I a) { return vshlq_n_s32(a, 16); }
  static void storei(int32_t* p, I v) { vst1q_s32(p, v); }
  static bool any_greater(I a, int32_t limit) { return vmaxvq_s32(a) > limit; }
  // 0 <= x <= hi in every lane.
  static bool all_within(I x, I hi) { return vminvq_s32(x) >= 0 && vmaxvq_s32(vsubq_s32(x, hi)) <= 0; }
  static I round_to_int(F a) { return vcvtnq_s32_f32(a); }
  static I keepi_if_within(I v, I x, I lo, I hi) {
    const uint32x4_t inside = vandq_u32(vcgeq_s32(x, lo), vcleq_s32(x, hi));
    return vandq_s32(vreinterpretq_s32_u32(inside), v);
  }

  // Pixel pairs (see kernels/sample_image.inl): the pair's 8 bytes are looked up into 16-bit
  // [c0 c1 c2 0] of p0 and of p1, then h = p0 * a0 + p1 * a1 with widening multiplies.
  struct PixelShuffle {
    uint8x16_t bytes_to_channels;
    int pixel_stride;
    bool split;  // pixels further apart than 4 bytes: two 4-byte loads
  };
  static PixelShuffle pixel_shuffle(int pixel_stride, const int channel_byte[3]) {
    const bool split = pixel_stride > 4;
    const int step = split ? 4 : pixel_stride;
    uint8_t m[16];
    for (int k = 0; k < 16; ++k) m[k] = 0xff;  // out of the table: zero
    for (int c = 0; c < 3; ++c) {
      m[2 * c] = static_cast<uint8_t>(channel_byte[c]);
      m[8 + 2 * c] = static_cast<uint8_t>(step + channel_byte[c]);
    }
    return {vld1q_u8(m), pixel_stride, split};
  }
  static int pair_read_bytes(int pixel_stride) { return pixel_stride > 4 ? pixel_stride + 4 : 8; }
  static uint32x4_t pair_sums(const uint8_t* p, uint32_t weights, const PixelShuffle& s) {
    uint8x8_t bytes;
    if (s.split) {
      uint32_t w[2];
      __builtin_memcpy(&w[0], p, 4);
      __builtin_memcpy(&w[1], p + s.pixel_stride, 4);
      bytes = vreinterpret_u8_u32(vld1_u32(w));
    } else {
      bytes = vld1_u8(p);
    }
    const uint16x8_t channels =
        vreinterpretq_u16_u8(vqtbl1q_u8(vcombine_u8(bytes, vdup_n_u8(0)), s.bytes_to_channels));
    const uint32x4_t sum = vmull_n_u16(vget_low_u16(channels), static_cast<uint16_t>(weights & 0xffff));
    return vmlal_n_u16(sum, vget_high_u16(channels), static_cast<uint16_t>(weights >> 16));
  }
  static void horizontal_pairs(const uint8_t* base, const int32_t* off, I weights, const PixelShuffle& s,
                               F h[3]) {
    uint32_t w[4];
    vst1q_u32(w, vreinterpretq_u32_s32(weights));
    const uint32x4_t p0 = pair_sums(base + off[0], w[0], s), p1 = pair_sums(base + off[1], w[1], s);
    const uint32x4_t p2 = pair_sums(base + off[2], w[2], s), p3 = pair_sums(base + off[3], w[3], s);
    const uint32x4x2_t t01 = vtrnq_u32(p0, p1), t23 = vtrnq_u32(p2, p3);  // [a0 b0 a2 b2] [a1 b1 a3 b3]
    h[0] = vcvtq_f32_u32(vcombine_u32(vget_low_u32(t01.val[0]), vget_low_u32(t23.val[0])));
    h[1] = vcvtq_f32_u32(vcombine_u32(vget_low_u32(t01.val[1]), vget_low_u32(t23.val[1])));
    h[2] = vcvtq_f32_u32(vcombine_u32(vget_high_u32(t01.val[0]), vget_high_u32(t23.val[0])));
  }

  static F keep_if_within(F v, I x, I lo, I hi) {
    const uint32x4_t inside = vandq_u32(vcgeq_s32(x, lo), vcleq_s32(x, hi));
    return vreinterpretq_f32_u32(vandq_u32(inside, vreinterpretq_u32_f32(v)));
  }
  static F keep_if_within(F v, F x, F lo, F hi) {
    const uint32x4_t inside = vandq_u32(vcgeq_f32(x, lo), vcleq_f32(x, hi));
    return vreinterpretq_f32_u32(vandq_u32(inside, vreinterpretq_u32_f32(v)));
  }

  // Lane idx[k] of `window` for each lane k (idx in [0, 3]).
  static F permute(F window, I idx) {
    const int32x4_t bytes = vaddq_s32(vmulq_s32(idx, vdupq_n_s32(0x04040404)), vdupq_n_s32(0x03020100));
    return vreinterpretq_f32_u8(vqtbl1q_u8(vreinterpretq_u8_f32(window), vreinterpretq_u8_s32(bytes)));
  }
  static F gather_f32(const float* base, I off) {
    int32_t o[4];
    vst1q_s32(o, off);
    const float v[4] = {base[o[0]], base[o[1]], base[o[2]], base[o[3]]};
    return vld1q_f32(v);
  }
  static F load_u8(const uint8_t* p) {
    uint32_t four;
    __builtin_memcpy(&four, p, 4);
    const uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(four));
    return vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
  }

  static void store_interleaved3(float* dst, F a, F b, F c) { vst3q_f32(dst, float32x4x3_t{{a, b, c}}); }
  // Clamp, round half to even, narrow to 4 bytes.
  static uint8x8_t pack_u8(F v) {
    const uint16x4_t w = vqmovun_s32(vcvtnq_s32_f32(max(min(v, set1(255.f)), set1(0.f))));
    return vqmovn_u16(vcombine_u16(w, w));
  }
  static void store_u8(uint8_t* dst, F v) {
    const uint32_t four = vget_lane_u32(vreinterpret_u32_u8(pack_u8(v)), 0);
    __builtin_memcpy(dst, &four, 4);
  }
  static void store_interleaved3_u8(uint8_t* dst, F a, F b, F c) {
    uint8_t pa[8], pb[8], pc[8];
    vst1_u8(pa, pack_u8(a));
    vst1_u8(pb, pack_u8(b));
    vst1_u8(pc, pack_u8(c));
    for (int k = 0; k < 4; ++k) {
      dst[3 * k + 0] = pa[k];
      dst[3 * k + 1] = pb[k];
      dst[3 * k + 2] = pc[k];
    }
  }
  static void store_gt_u8(uint8_t* dst, F v, F t) {
    const uint32x4_t ones = vandq_u32(vcgtq_f32(v, t), vdupq_n_u32(1));
    const uint16x4_t w = vmovn_u32(ones);
    const uint32_t four = vget_lane_u32(vreinterpret_u32_u8(vmovn_u16(vcombine_u16(w, w))), 0);
    __builtin_memcpy(dst, &four, 4);
  }  // store_gt_u8 of four consecutive vectors: one 16-byte store.
  static void store_gt_u8_x4(uint8_t* dst, F v0, F v1, F v2, F v3, F t) {
    const uint16x8_t a = vcombine_u16(vmovn_u32(vcgtq_f32(v0, t)), vmovn_u32(vcgtq_f32(v1, t)));
    const uint16x8_t b = vcombine_u16(vmovn_u32(vcgtq_f32(v2, t)), vmovn_u32(vcgtq_f32(v3, t)));
    vst1q_u8(dst, vandq_u8(vcombine_u8(vmovn_u16(a), vmovn_u16(b)), vdupq_n_u8(1)));
  }


  // Fixed-point lanes (see ScalarOps): 8 int16.
  static constexpr int kLanes16 = 8;
  using Q = int16x8_t;
  static Q load_q(const int16_t* p) { return vld1q_s16(p); }
  static void store_q(int16_t* p, Q v) { vst1q_s16(p, v); }
  static Q setq(int16_t v) { return vdupq_n_s16(v); }
  static Q addq(Q a, Q b) { return vaddq_s16(a, b); }
  static Q subq(Q a, Q b) { return vsubq_s16(a, b); }
  static Q mulhrs(Q a, Q b) { return vqrdmulhq_s16(a, b); }
  static Q load_u8_q6(const uint8_t* p) { return vreinterpretq_s16_u16(vshll_n_u8(vld1_u8(p), 6)); }
  static void store_u8_q6(uint8_t* p, Q v) { vst1_u8(p, vqrshrun_n_s16(v, 6)); }
  static Q q15_weights(const float* p) {
    const F one = set1(1.0f), zero = set1(0.0f), scale = set1(32768.0f);
    return vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(mul(max(min(load(p), one), zero), scale))),
                        vqmovn_s32(vcvtnq_s32_f32(mul(max(min(load(p + 4), one), zero), scale))));
  }
  static Q q6_from_floats(const float* p) {
    const F scale = set1(64.0f);
    return vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(mul(load(p), scale))),
                        vqmovn_s32(vcvtnq_s32_f32(mul(load(p + 4), scale))));
  }
  static void expand3_q(const int16_t* w, int16_t* out) {
    const Q v = vld1q_s16(w);
    vst3q_s16(out, int16x8x3_t{{v, v, v}});
  }
  static F above(F v, F t) {
    return vreinterpretq_f32_u32(vandq_u32(vcgtq_f32(v, t), vreinterpretq_u32_f32(vdupq_n_f32(1.0f))));
  }
  static Q load_u8_i16(const uint8_t* p) { return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p))); }
  static F select(I mask, F a, F b) { return vbslq_f32(vreinterpretq_u32_s32(mask), a, b); }
};

}  // namespace
}  // namespace edgevision::simd
