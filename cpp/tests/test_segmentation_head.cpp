// segmentation_head against a naive double-precision evaluation of the layers (TFLite's
// semantics: half-pixel bilinear 2x, SAME zero padding, ReLU6), every ISA path against scalar
// bit for bit, and the same bits with helper threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "edgevision/isa.hpp"
#include "edgevision/segmentation_head.hpp"

using namespace edgevision;
using namespace edgevision::testing;

namespace {

constexpr int kC = kHeadChannels;

struct BlockWeights {
  std::vector<float> dw, dw_bias, pw, pw_bias;
};

struct Weights {
  BlockWeights before[kHeadMaxBlocks], after[kHeadMaxLevels][kHeadMaxBlocks];
  std::vector<float> head;
  SegmentationHead params;
};

// `blocks`: per level; `skip`: whether level 0 adds a skip map.
void make_weights(int input_blocks, std::vector<int> blocks, bool skip, std::mt19937& rng, Weights& w) {
  std::normal_distribution<float> n(0.0f, 0.4f);
  auto fill = [&](std::vector<float>& v, size_t count) {
    v.resize(count);
    for (float& x : v) x = n(rng);
  };
  auto block = [&](BlockWeights& b) -> SegmentationHeadBlock {
    fill(b.dw, 9 * kC), fill(b.dw_bias, kC), fill(b.pw, kC * kC), fill(b.pw_bias, kC);
    return {b.dw.data(), b.dw_bias.data(), b.pw.data(), b.pw_bias.data()};
  };
  w.params.input_blocks = input_blocks;
  for (int b = 0; b < input_blocks; ++b) w.params.input_block[b] = block(w.before[b]);
  w.params.levels = static_cast<int>(blocks.size());
  for (int l = 0; l < w.params.levels; ++l) {
    w.params.level[l].skip = skip && l == 0;
    w.params.level[l].blocks = blocks[l];
    for (int b = 0; b < blocks[l]; ++b) w.params.level[l].block[b] = block(w.after[l][b]);
  }
  fill(w.head, 9 * kC);
  w.params.head = w.head.data();
  w.params.head_bias = n(rng);
}

double relu6(double v) { return std::min(std::max(v, 0.0), 6.0); }

// Residual blocks on an [h][w][8] plane of doubles.
void naive_block(std::vector<double>& x, int W, int H, const BlockWeights& b) {
  auto at = [&](int i, int j, int c) { return i < 0 || i >= H || j < 0 || j >= W ? 0.0 : x[(size_t(i) * W + j) * kC + c]; };
  std::vector<double> d(x.size()), y(x.size());
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j)
      for (int c = 0; c < kC; ++c) {
        double s = b.dw_bias[c];
        for (int t = 0; t < 9; ++t) s += at(i + t / 3 - 1, j + t % 3 - 1, c) * b.dw[t * kC + c];
        d[(size_t(i) * W + j) * kC + c] = relu6(s);
      }
  for (size_t p = 0; p < size_t(W) * H; ++p)
    for (int o = 0; o < kC; ++o) {
      double s = b.pw_bias[o];
      for (int c = 0; c < kC; ++c) s += d[p * kC + c] * b.pw[o * kC + c];
      y[p * kC + o] = relu6(x[p * kC + o] + s);
    }
  x.swap(y);
}

// Half-pixel bilinear 2x of an [h][w][8] plane of doubles, clamped at the edges.
std::vector<double> naive_upsample(const std::vector<double>& low, int width, int height) {
  const int W = 2 * width, H = 2 * height;
  std::vector<double> x(size_t(W) * H * kC);
  auto source = [&](int i, int j, int c) { return low[(size_t(i) * width + j) * kC + c]; };
  for (int i = 0; i < H; ++i) {
    const double sy = (i + 0.5) * 0.5 - 0.5, fy = sy - std::floor(sy);
    const int y0 = std::clamp(int(std::floor(sy)), 0, height - 1), y1 = std::clamp(int(std::floor(sy)) + 1, 0, height - 1);
    for (int j = 0; j < W; ++j) {
      const double sx = (j + 0.5) * 0.5 - 0.5, fx = sx - std::floor(sx);
      const int x0 = std::clamp(int(std::floor(sx)), 0, width - 1), x1 = std::clamp(int(std::floor(sx)) + 1, 0, width - 1);
      for (int c = 0; c < kC; ++c)
        x[(size_t(i) * W + j) * kC + c] = (1 - fy) * ((1 - fx) * source(y0, x0, c) + fx * source(y0, x1, c)) +
                                          fy * ((1 - fx) * source(y1, x0, c) + fx * source(y1, x1, c));
    }
  }
  return x;
}

// [h << levels][w << levels] doubles: the layers one after the other. `skip`: level 0's map.
std::vector<double> naive(const std::vector<float>& features, int width, int height, int64_t row_stride,
                          const Weights& w, const std::vector<float>& skip = {}) {
  std::vector<double> x(size_t(width) * height * kC);
  for (int i = 0; i < height; ++i)
    for (int j = 0; j < width * kC; ++j) x[size_t(i) * width * kC + j] = features[i * row_stride + j];
  for (int b = 0; b < w.params.input_blocks; ++b) naive_block(x, width, height, w.before[b]);
  int W = width, H = height;
  for (int l = 0; l < w.params.levels; ++l) {
    x = naive_upsample(x, W, H);
    W *= 2, H *= 2;
    if (w.params.level[l].skip)
      for (size_t k = 0; k < x.size(); ++k) x[k] += skip[k];
    for (int b = 0; b < w.params.level[l].blocks; ++b) naive_block(x, W, H, w.after[l][b]);
  }
  auto at = [&](int i, int j, int c) { return i < 0 || i >= H || j < 0 || j >= W ? 0.0 : x[(size_t(i) * W + j) * kC + c]; };
  std::vector<double> out(size_t(W) * H);
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j) {
      double s = w.params.head_bias;
      for (int t = 0; t < 9; ++t)
        for (int c = 0; c < kC; ++c) s += at(i + t / 3 - 1, j + t % 3 - 1, c) * w.head[t * kC + c];
      out[size_t(i) * W + j] = s;
    }
  return out;
}

}  // namespace

TEST(segmentation_head_equals_the_layers_on_every_path) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-1.0f, 3.0f);
  struct Case {
    int width, height, input_blocks;
    std::vector<int> blocks;
    bool skip;
    int pad;
  };
  for (const Case& k : {Case{128, 128, 2, {2}, false, 0}, Case{64, 64, 0, {2, 2}, true, 0}, Case{1, 1, 1, {2}, false, 0},
                        Case{3, 5, 0, {1}, false, 8}, Case{17, 9, 2, {0}, false, 3}, Case{9, 17, 1, {4}, false, 0},
                        Case{2, 3, 4, {0}, false, 0}, Case{5, 3, 1, {1, 0}, true, 4}, Case{1, 2, 0, {0, 3}, false, 0}}) {
    Weights w;
    make_weights(k.input_blocks, k.blocks, k.skip, rng, w);
    const int64_t row_stride = int64_t{k.width} * kC + k.pad;
    std::vector<float> features(size_t(row_stride) * k.height);
    for (float& f : features) f = u(rng);
    std::vector<float> skip(k.skip ? size_t(4) * k.width * k.height * kC : 0);
    for (float& f : skip) f = u(rng);
    const HeadSkip skips[kHeadMaxLevels] = {{skip.data(), int64_t{2 * k.width} * kC}, {}};
    const std::vector<double> expected = naive(features, k.width, k.height, row_stride, w, skip);
    const int levels = static_cast<int>(k.blocks.size());
    const int W = k.width << levels, H = k.height << levels;
    std::string name = std::to_string(k.width) + "x" + std::to_string(k.height) + " blocks " + std::to_string(k.input_blocks);
    for (int b : k.blocks) name += " + " + std::to_string(b);
    force_isa(Isa::scalar);
    std::vector<float> scalar(size_t(W + 1) * H, -7.0f);  // one float of row padding: left alone
    segmentation_head(features.data(), k.width, k.height, row_stride, w.params, scalar.data(), W + 1, 1, false, skips);
    double worst = 0.0;
    bool padding_kept = true;
    for (int i = 0; i < H; ++i) {
      padding_kept &= scalar[size_t(i) * (W + 1) + W] == -7.0f;
      for (int j = 0; j < W; ++j) {
        const double e = expected[size_t(i) * W + j];
        worst = std::max(worst, std::fabs(scalar[size_t(i) * (W + 1) + j] - e) / (1.0 + std::fabs(e)));
      }
    }
    CHECK_MSG(worst < 2e-5, name + ": relative error " + std::to_string(worst));
    CHECK_MSG(padding_kept, name + ": wrote past the rows");
    for (Isa isa : supported_isas()) {
      force_isa(isa);
      for (int threads : {1, 2, 4}) {
        std::vector<float> got(scalar.size(), -7.0f);
        segmentation_head(features.data(), k.width, k.height, row_stride, w.params, got.data(), W + 1, threads, false,
                          skips);
        CHECK_MSG(std::memcmp(got.data(), scalar.data(), sizeof(float) * got.size()) == 0,
                  name + ": " + isa_name(isa) + " x" + std::to_string(threads) + " differs from scalar");
      }
    }
    unforce_isa();
  }
}

TEST(segmentation_head_repeats_after_other_geometries) {
  // The rings are kept across calls: their zero padding must survive a call of another layout.
  std::mt19937 rng(4);
  Weights a, b;
  make_weights(1, {2}, false, rng, a);
  make_weights(2, {1}, false, rng, b);
  std::vector<float> fa(6 * 10 * kC, 0.5f), fb(10 * 6 * kC, 1.5f), first(12 * 20), again(12 * 20), other(20 * 12);
  for (size_t k = 0; k < fa.size(); ++k) fa[k] = static_cast<float>(k % 13) * 0.25f, fb[k] = static_cast<float>(k % 7);
  for (int threads : {1, 2}) {
    segmentation_head(fa.data(), 10, 6, 10 * kC, a.params, first.data(), 20, threads);
    segmentation_head(fb.data(), 6, 10, 6 * kC, b.params, other.data(), 12, threads);
    segmentation_head(fa.data(), 10, 6, 10 * kC, a.params, again.data(), 20, threads);
    CHECK(std::memcmp(first.data(), again.data(), sizeof(float) * first.size()) == 0);
  }
}

TEST(segmentation_head_sigmoid_is_exact_to_float_rounding_on_every_path) {
  // A head of zero weights outputs its bias everywhere: sigmoid(bias) for logits across the range,
  // then a real head's logits.
  std::mt19937 rng(9);
  Weights w;
  make_weights(1, {1}, false, rng, w);
  std::vector<float> features(5 * 7 * kC);
  for (size_t k = 0; k < features.size(); ++k) features[k] = static_cast<float>(k % 11) * 0.3f;
  std::vector<float> logits(10 * 14), scalar(10 * 14), got(10 * 14);
  double worst = 0.0;
  auto check_against_logits = [&](const std::string& what) {
    for (size_t k = 0; k < logits.size(); ++k) {
      const double exact = 1.0 / (1.0 + std::exp(-double(logits[k])));
      worst = std::max(worst, std::fabs(scalar[k] - exact));
    }
    for (Isa isa : supported_isas()) {
      force_isa(isa);
      segmentation_head(features.data(), 7, 5, 7 * kC, w.params, got.data(), 14, 2, true);
      CHECK_MSG(std::memcmp(got.data(), scalar.data(), sizeof(float) * got.size()) == 0,
                what + ": " + isa_name(isa) + " differs from scalar");
    }
    unforce_isa();
  };
  for (float bias : {-200.0f, -88.7f, -87.3f, -20.0f, -1e-3f, 0.0f, 0.37f, 5.0f, 16.6f, 88.0f, 1e4f}) {
    Weights zero = w;
    std::vector<float> none(9 * kC, 0.0f);
    zero.params.head = none.data();
    zero.params.head_bias = bias;
    std::swap(w.params, zero.params);
    force_isa(Isa::scalar);
    segmentation_head(features.data(), 7, 5, 7 * kC, w.params, logits.data(), 14, 1, false);
    segmentation_head(features.data(), 7, 5, 7 * kC, w.params, scalar.data(), 14, 1, true);
    check_against_logits("bias " + std::to_string(bias));
    std::swap(w.params, zero.params);
  }
  force_isa(Isa::scalar);
  segmentation_head(features.data(), 7, 5, 7 * kC, w.params, logits.data(), 14, 1, false);
  segmentation_head(features.data(), 7, 5, 7 * kC, w.params, scalar.data(), 14, 1, true);
  check_against_logits("random head");
  CHECK_MSG(worst < 3e-7, "largest error against the exact sigmoid " + std::to_string(worst));
}

TEST(segmentation_head_rejects_bad_geometry) {
  Weights w;
  std::mt19937 rng(1);
  make_weights(0, {1}, false, rng, w);
  std::vector<float> features(4 * 4 * kC), out(8 * 8), skip(8 * 8 * kC);
  auto throws = [&](SegmentationHead params, int64_t row_stride, const HeadSkip* skips) {
    try {
      segmentation_head(features.data(), 4, 4, row_stride, params, out.data(), 8, 1, false, skips);
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  CHECK(!throws(w.params, 4 * kC, nullptr));
  CHECK(throws(w.params, 4 * kC - 1, nullptr));  // rows overlap
  SegmentationHead bad = w.params;
  bad.level[0].blocks = kHeadMaxBlocks + 1;
  CHECK(throws(bad, 4 * kC, nullptr));
  bad = w.params;
  bad.levels = kHeadMaxLevels + 1;
  CHECK(throws(bad, 4 * kC, nullptr));
  bad = w.params;
  bad.level[0].skip = true;  // no map given, then too narrow a one
  CHECK(throws(bad, 4 * kC, nullptr));
  const HeadSkip narrow[kHeadMaxLevels] = {{skip.data(), 8 * kC - 1}, {}};
  CHECK(throws(bad, 4 * kC, narrow));
  const HeadSkip fine[kHeadMaxLevels] = {{skip.data(), 8 * kC}, {}};
  CHECK(!throws(bad, 4 * kC, fine));
}
