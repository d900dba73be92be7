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

struct Weights {
  std::vector<float> dw[kHeadMaxBlocks], dw_bias[kHeadMaxBlocks], pw[kHeadMaxBlocks], pw_bias[kHeadMaxBlocks], head;
  SegmentationHead params;
};

void make_weights(int blocks, std::mt19937& rng, Weights& w) {
  std::normal_distribution<float> n(0.0f, 0.4f);
  auto fill = [&](std::vector<float>& v, size_t count) {
    v.resize(count);
    for (float& x : v) x = n(rng);
  };
  w.params.blocks = blocks;
  for (int b = 0; b < blocks; ++b) {
    fill(w.dw[b], 9 * kC), fill(w.dw_bias[b], kC), fill(w.pw[b], kC * kC), fill(w.pw_bias[b], kC);
    w.params.block[b] = {w.dw[b].data(), w.dw_bias[b].data(), w.pw[b].data(), w.pw_bias[b].data()};
  }
  fill(w.head, 9 * kC);
  w.params.head = w.head.data();
  w.params.head_bias = n(rng);
}

double relu6(double v) { return std::min(std::max(v, 0.0), 6.0); }

// [h][w][c] doubles: the layers one after the other.
std::vector<double> naive(const std::vector<float>& features, int width, int height, int64_t row_stride,
                          const Weights& w) {
  const int W = 2 * width, H = 2 * height;
  std::vector<double> x(size_t(W) * H * kC);
  auto source = [&](int i, int j, int c) { return double(features[i * row_stride + j * kC + c]); };
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
  auto at = [&](const std::vector<double>& p, int i, int j, int c) {
    return i < 0 || i >= H || j < 0 || j >= W ? 0.0 : p[(size_t(i) * W + j) * kC + c];
  };
  for (int b = 0; b < w.params.blocks; ++b) {
    std::vector<double> d(x.size()), y(x.size());
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j)
        for (int c = 0; c < kC; ++c) {
          double s = w.dw_bias[b][c];
          for (int t = 0; t < 9; ++t) s += at(x, i + t / 3 - 1, j + t % 3 - 1, c) * w.dw[b][t * kC + c];
          d[(size_t(i) * W + j) * kC + c] = relu6(s);
        }
    for (size_t p = 0; p < size_t(W) * H; ++p)
      for (int o = 0; o < kC; ++o) {
        double s = w.pw_bias[b][o];
        for (int c = 0; c < kC; ++c) s += d[p * kC + c] * w.pw[b][o * kC + c];
        y[p * kC + o] = relu6(x[p * kC + o] + s);
      }
    x.swap(y);
  }
  std::vector<double> out(size_t(W) * H);
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j) {
      double s = w.params.head_bias;
      for (int t = 0; t < 9; ++t)
        for (int c = 0; c < kC; ++c) s += at(x, i + t / 3 - 1, j + t % 3 - 1, c) * w.head[t * kC + c];
      out[size_t(i) * W + j] = s;
    }
  return out;
}

}  // namespace

TEST(segmentation_head_equals_the_layers_on_every_path) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-1.0f, 3.0f);
  struct Case {
    int width, height, blocks, pad;
  };
  for (const Case& k : {Case{128, 128, 2, 0}, Case{1, 1, 2, 0}, Case{3, 5, 1, 8}, Case{17, 9, 0, 3}, Case{9, 17, 4, 0}}) {
    Weights w;
    make_weights(k.blocks, rng, w);
    const int64_t row_stride = int64_t{k.width} * kC + k.pad;
    std::vector<float> features(size_t(row_stride) * k.height);
    for (float& f : features) f = u(rng);
    const std::vector<double> expected = naive(features, k.width, k.height, row_stride, w);
    const int W = 2 * k.width, H = 2 * k.height;
    const std::string name = std::to_string(k.width) + "x" + std::to_string(k.height) + " blocks " + std::to_string(k.blocks);
    force_isa(Isa::scalar);
    std::vector<float> scalar(size_t(W + 1) * H, -7.0f);  // one float of row padding: left alone
    segmentation_head(features.data(), k.width, k.height, row_stride, w.params, scalar.data(), W + 1, 1);
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
        segmentation_head(features.data(), k.width, k.height, row_stride, w.params, got.data(), W + 1, threads);
        CHECK_MSG(std::memcmp(got.data(), scalar.data(), sizeof(float) * got.size()) == 0,
                  name + ": " + isa_name(isa) + " x" + std::to_string(threads) + " differs from scalar");
      }
    }
    unforce_isa();
  }
}

TEST(segmentation_head_rejects_bad_geometry) {
  Weights w;
  std::mt19937 rng(1);
  make_weights(1, rng, w);
  std::vector<float> features(4 * 4 * kC), out(8 * 8);
  bool threw = false;
  try {
    segmentation_head(features.data(), 4, 4, 4 * kC - 1, w.params, out.data(), 8, 1);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  threw = false;
  w.params.blocks = kHeadMaxBlocks + 1;
  try {
    segmentation_head(features.data(), 4, 4, 4 * kC, w.params, out.data(), 8, 1);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}
