// SAM 2 kernels against naive per-element loops: the fused upsample + threshold (every SIMD path,
// uniform-block shortcut included, bit for bit), mask selection, prompt tokens, the image tensor.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "edgevision/isa.hpp"
#include "edgevision/sam2.hpp"
#include "sam2/kernel_table.hpp"

using namespace edgevision;
using namespace edgevision::testing;

namespace {

// PyTorch's bilinear interpolate (align_corners=False) and threshold, one output pixel at a time.
std::vector<uint8_t> naive_upsample_threshold(const PlaneView<float>& src, Size size, float threshold) {
  auto taps = [](int i, int in, int out, int& i0, int& i1, float& w0, float& w1) {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    float s = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    i0 = static_cast<int>(std::floor(s));
    if (i0 > in - 1) i0 = in - 1;
    float lambda = s - static_cast<float>(i0);
    lambda = lambda < 0.0f ? 0.0f : lambda > 1.0f ? 1.0f : lambda;
    i1 = i0 < in - 1 ? i0 + 1 : i0;
    w1 = lambda;
    w0 = 1.0f - lambda;
  };
  std::vector<uint8_t> out(size_t(size.width) * size.height);
  for (int i = 0; i < size.height; ++i) {
    int y0, y1;
    float wy0, wy1;
    taps(i, src.height, size.height, y0, y1, wy0, wy1);
    for (int j = 0; j < size.width; ++j) {
      int x0, x1;
      float wx0, wx1;
      taps(j, src.width, size.width, x0, x1, wx0, wx1);
      auto at = [&](int y, int x) { return src.data[y * src.row_stride + x * src.col_stride]; };
      const float top = at(y0, x0) * wx0 + at(y0, x1) * wx1;
      const float bottom = at(y1, x0) * wx0 + at(y1, x1) * wx1;
      out[size_t(i) * size.width + j] = top * wy0 + bottom * wy1 > threshold ? 1 : 0;
    }
  }
  return out;
}

struct Logits {
  std::vector<float> buffer;
  PlaneView<float> view;
};

// A smooth blob with plateaus far from the threshold (uniform blocks), values within a few ulps
// of it, and the odd NaN and subnormal, in a strided buffer that ends at its last element.
Logits make_logits(int width, int height, int col_stride, float threshold, uint32_t seed) {
  Logits l;
  const int64_t row_stride = int64_t{width} * col_stride + 3;
  l.buffer.assign(size_t((height - 1) * row_stride + (width - 1) * col_stride + 1), 0.0f);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int i = 0; i < height; ++i) {
    for (int j = 0; j < width; ++j) {
      const float dx = (j - 0.4f * width) / width, dy = (i - 0.55f * height) / height;
      float v = 20.0f * (0.3f - std::sqrt(dx * dx + dy * dy));
      const uint32_t r = rng() % 64;
      if (r == 0) v = threshold;
      else if (r == 1) v = std::nextafter(threshold, 1e9f);
      else if (r == 2) v = std::nextafter(threshold, -1e9f);
      else if (r == 3 && seed % 3 == 0) v = std::numeric_limits<float>::quiet_NaN();
      else if (r == 4) v = 1e-40f;  // subnormal
      else if (r < 12) v += 0.3f * u(rng);
      l.buffer[size_t(i * row_stride + j * col_stride)] = v;
    }
  }
  l.view = PlaneView<float>{l.buffer.data(), width, height, row_stride, col_stride};
  return l;
}

}  // namespace

TEST(sam2_upsample_threshold_equals_naive_on_every_path) {
  const Size sources[] = {{256, 256}, {7, 5}, {1, 1}, {33, 17}, {256, 64}};
  const Size outputs[] = {{1920, 1080}, {1, 1}, {63, 65}, {129, 3}, {200, 333}, {5, 4}, {256, 256}};
  uint32_t seed = 7;
  for (const Size& src_size : sources) {
    for (const Size& out_size : outputs) {
      for (float threshold : {0.0f, 0.25f, -3.0f}) {
        const Logits logits = make_logits(src_size.width, src_size.height, 1 + seed % 2, threshold, seed);
        ++seed;
        const std::vector<uint8_t> expected = naive_upsample_threshold(logits.view, out_size, threshold);
        std::vector<uint8_t> got(expected.size());
        for (Isa isa : supported_isas()) {
          force_isa(isa);
          for (int threads : {1, 3}) {  // row parts on threads (large outputs only) change nothing
            std::memset(got.data(), 0xAB, got.size());
            sam2_upsample_threshold(logits.view, out_size, threshold, got.data(), threads);
            size_t bad = 0;
            for (size_t k = 0; k < got.size(); ++k) bad += got[k] != expected[k];
            CHECK_MSG(bad == 0, std::string(isa_name(isa)) + " x" + std::to_string(threads) + ": " +
                                    std::to_string(bad) + " pixels differ, " + std::to_string(src_size.width) + "x" +
                                    std::to_string(src_size.height) + " -> " + std::to_string(out_size.width) + "x" +
                                    std::to_string(out_size.height));
          }
        }
        unforce_isa();
      }
    }
  }
}

TEST(sam2_upsample_threshold_uniform_planes_near_the_threshold) {
  // Whole blocks of one value just above or below the threshold: the shortcut may only fill
  // where the arithmetic cannot round across it.
  for (float threshold : {0.0f, 0.25f, -3.0f, 1e-30f}) {
    const float up = std::nextafter(threshold, 1e9f), down = std::nextafter(threshold, -1e9f);
    for (float v : {threshold, up, down, std::nextafter(up, 1e9f), threshold + std::fabs(threshold) * 1e-6f,
                    threshold + std::fabs(threshold) * 3e-6f + 1e-29f, threshold - std::fabs(threshold) * 3e-6f - 1e-29f,
                    1e-40f, -1e-40f, std::numeric_limits<float>::denorm_min(),
                    2 * std::numeric_limits<float>::denorm_min(), 3 * std::numeric_limits<float>::denorm_min()}) {
      std::vector<float> plane(size_t(40) * 30, v);
      plane[size_t(25) * 40 + 3] = threshold + 5.0f;  // one mixed corner
      const PlaneView<float> view{plane.data(), 40, 30, 40, 1};
      const Size out{517, 301};
      const std::vector<uint8_t> expected = naive_upsample_threshold(view, out, threshold);
      std::vector<uint8_t> got(expected.size());
      for (Isa isa : supported_isas()) {
        force_isa(isa);
        sam2_upsample_threshold(view, out, threshold, got.data());
        CHECK_MSG(got == expected, std::string(isa_name(isa)) + " value " + std::to_string(v) + " threshold " +
                                       std::to_string(threshold));
      }
      unforce_isa();
    }
  }
}

TEST(sam2_stability_and_selection) {
  // Four 3x2 planes, token-major.
  const float planes[4][6] = {{0.1f, -0.02f, 0.5f, -1.0f, 0.04f, 0.06f},  // > 0.05: 3, > -0.05: 5
                              {1, 1, 1, 1, 1, 1},
                              {-1, -1, -1, -1, -1, -1},
                              {0.2f, 0.2f, -0.2f, -0.2f, 0.2f, 0.2f}};
  Sam2MaskStack stack{&planes[0][0], 4, 3, 2, 6, 3, 1};
  CHECK(sam2_stability_score(stack.plane(0), 0.05f) == 3.0f / 5.0f);
  CHECK(sam2_stability_score(stack.plane(2), 0.05f) == 1.0f);  // nothing above -delta
  const float iou[4] = {0.9f, 0.3f, 0.7f, 0.7f};
  Sam2SelectOptions options;
  options.multimask = true;
  Sam2Selection s = sam2_select_mask(stack, iou, 1, options);
  CHECK(s.token == 2 && s.score == 0.7f);  // first of the tied maxima
  options.multimask = false;
  s = sam2_select_mask(stack, iou, 1, options);  // token 0 unstable (0.6 < 0.98): best multimask
  CHECK(s.token == 2 && s.score == 0.7f && s.stability == 1.0f);
  options.stability_threshold = 0.5f;
  s = sam2_select_mask(stack, iou, 1, options);  // now stable enough
  CHECK(s.token == 0 && s.score == 0.9f && s.stability == 0.6f);
  Sam2MaskStack single{&planes[3][0], 1, 3, 2, 0, 3, 1};
  s = sam2_select_mask(single, iou + 3, 1, options);
  CHECK(s.token == 0 && s.score == 0.7f && s.stability == 1.0f);
}

TEST(sam2_prompt_tokens) {
  std::vector<float> gaussian(2 * kSam2Frequencies), embeddings(4 * kSam2EmbedDim), not_a_point(kSam2EmbedDim);
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto* v : {&gaussian, &embeddings, &not_a_point})
    for (float& x : *v) x = n(rng);
  const Sam2PromptParams params{gaussian.data(), embeddings.data(), not_a_point.data()};
  const float points[] = {100.0f, 50.0f, 100.0f, 50.0f, -30.0f, 900.0f};
  const int32_t labels[] = {0, 1, -1};
  const float box[] = {10.0f, 20.0f, 300.0f, 400.0f};
  Sam2Prompt prompt{points, labels, 3, box, 1};
  CHECK(sam2_token_count(prompt) == 6);
  std::vector<float> out(6 * kSam2EmbedDim);
  sam2_encode_prompt(prompt, {640, 480}, params, out.data());
  const float* token = out.data();
  for (int k = 0; k < kSam2EmbedDim; ++k) {
    // Same point, labels 0 and 1: only the label embedding differs.
    const float d = (token[3 * kSam2EmbedDim + k] - embeddings[kSam2EmbedDim + k]) -
                    (token[2 * kSam2EmbedDim + k] - embeddings[k]);
    CHECK(std::fabs(d) < 1e-5f);
    CHECK(token[4 * kSam2EmbedDim + k] == not_a_point[k]);  // label -1
    CHECK(token[5 * kSam2EmbedDim + k] == not_a_point[k]);  // the padding token
  }
  // The box's top-left corner: features of (10.5, 20.5) in 1024-pixel units.
  const float cx = 2.0f * ((10.0f / 640.0f * 1024.0f + 0.5f) / 1024.0f) - 1.0f;
  const float cy = 2.0f * ((20.0f / 480.0f * 1024.0f + 0.5f) / 1024.0f) - 1.0f;
  for (int k = 0; k < kSam2Frequencies; ++k) {
    const double angle = 2 * M_PI * (double(cx) * gaussian[k] + double(cy) * gaussian[kSam2Frequencies + k]);
    CHECK(std::fabs(token[k] - (std::sin(angle) + embeddings[2 * kSam2EmbedDim + k])) < 2e-5);
    CHECK(std::fabs(token[k + kSam2Frequencies] - (std::cos(angle) + embeddings[2 * kSam2EmbedDim + k + kSam2Frequencies])) < 2e-5);
  }
}

TEST(sam2_fourier_features_match_exact_sin_cos_on_every_path) {
  // Angles up to 2 pi * 16 (a prompt's are below 2 pi * 2 * max |g|), including exact multiples
  // of pi / 2 and the quadrant edges.
  std::vector<float> gaussian(2 * kSam2Frequencies);
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& g : gaussian) g = n(rng);
  for (int k = 0; k < 8; ++k) gaussian[k] = 0.25f * static_cast<float>(k), gaussian[kSam2Frequencies + k] = 0.0f;
  gaussian[8] = 8.0f, gaussian[kSam2Frequencies + 8] = 8.0f;
  std::vector<float> scalar(kSam2EmbedDim), got(kSam2EmbedDim);
  double worst = 0.0;
  for (int p = 0; p < 400; ++p) {
    const float cx = -1.0f + 2.0f * static_cast<float>(p % 20) / 19.0f, cy = -1.0f + 2.0f * static_cast<float>(p / 20) / 19.0f;
    force_isa(Isa::scalar);
    sam2_kernels::table_for(Isa::scalar).fourier_features(cx, cy, gaussian.data(), scalar.data());
    for (int k = 0; k < kSam2Frequencies; ++k) {
      const float angle = 6.2831855f * (cx * gaussian[k] + cy * gaussian[kSam2Frequencies + k]);
      worst = std::max({worst, std::fabs(scalar[k] - std::sin(double(angle))),
                        std::fabs(scalar[k + kSam2Frequencies] - std::cos(double(angle)))});
    }
    for (Isa isa : supported_isas()) {
      sam2_kernels::table_for(isa).fourier_features(cx, cy, gaussian.data(), got.data());
      CHECK_MSG(std::memcmp(got.data(), scalar.data(), sizeof(float) * got.size()) == 0,
                std::string(isa_name(isa)) + " differs from scalar at point " + std::to_string(p));
    }
  }
  unforce_isa();
  CHECK_MSG(worst < 3e-7, "largest error against exact sin/cos " + std::to_string(worst));
}

TEST(sam2_image_tensor_equals_direct_filter) {
  std::mt19937 rng(11);
  for (const Size src : {Size{37, 23}, Size{9, 40}, Size{64, 64}}) {
    for (const Size dst : {Size{50, 31}, Size{16, 16}, Size{64, 7}}) {
      const int channels = 4, pixel_stride = 5;
      const int64_t row_stride = int64_t{src.width} * pixel_stride + 2;
      std::vector<uint8_t> buffer(size_t((src.height - 1) * row_stride + (src.width - 1) * pixel_stride + channels));
      for (auto& b : buffer) b = static_cast<uint8_t>(rng());
      const ImageView image{buffer.data(), src.width, src.height, channels, row_stride, pixel_stride};
      std::vector<float> out(size_t(3) * dst.width * dst.height);
      sam2_image_tensor(image, dst, true, out.data());
      // Triangle filter widened by the scale when downscaling, normalised per output (2-D product).
      auto weights = [](int i, int in, int out, std::vector<double>& w, int& lo) {
        const double scale = double(in) / out, support = scale >= 1 ? scale : 1.0, inv = scale >= 1 ? 1 / scale : 1.0;
        const double center = scale * (i + 0.5);
        lo = std::max(static_cast<int>(center - support + 0.5), 0);
        const int hi = std::min(static_cast<int>(center + support + 0.5), in);
        w.assign(size_t(hi - lo), 0.0);
        double total = 0;
        for (int k = 0; k < hi - lo; ++k) {
          const double x = std::fabs((k + lo - center + 0.5) * inv);
          w[size_t(k)] = x < 1 ? 1 - x : 0;
          total += w[size_t(k)];
        }
        for (double& v : w) v /= total;
      };
      double worst = 0;
      std::vector<double> wy, wx;
      for (int i = 0; i < dst.height; ++i) {
        int y0, x0;
        weights(i, src.height, dst.height, wy, y0);
        for (int j = 0; j < dst.width; ++j) {
          weights(j, src.width, dst.width, wx, x0);
          for (int c = 0; c < 3; ++c) {
            double v = 0;
            for (size_t a = 0; a < wy.size(); ++a)
              for (size_t b = 0; b < wx.size(); ++b)
                v += wy[a] * wx[b] * buffer[size_t((y0 + a) * row_stride + (x0 + b) * pixel_stride + (2 - c))] / 255.0;
            worst = std::max(worst, std::fabs(v - out[size_t(c) * dst.width * dst.height + size_t(i) * dst.width + j]));
          }
        }
      }
      CHECK_MSG(worst < 2e-6, std::to_string(worst));
    }
  }
}
