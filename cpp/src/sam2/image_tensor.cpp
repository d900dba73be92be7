// The SAM 2 encoder's input: the frame stretched to 1024 x 1024 as torchvision's Resize does on a
// float tensor (bilinear with antialias: a triangle filter whose support grows with the
// downscaling factor, weights normalised per output pixel), separable, horizontal pass first.
#include <algorithm>
#include <cmath>
#include <vector>

#include "edgevision/sam2.hpp"

namespace edgevision {

namespace {

struct AxisFilter {
  std::vector<int32_t> first;  // per output index: first source index
  std::vector<int32_t> count;  // number of taps
  std::vector<float> weights;  // [out][max_taps]
  int max_taps = 0;
};

// PyTorch's antialiased linear filter (interpolate(..., antialias=True), align_corners=False).
void antialias_filter(int in_size, int out_size, AxisFilter& f) {
  const double scale = double(in_size) / out_size;
  const double support = scale >= 1.0 ? scale : 1.0;
  const double inv_scale = scale >= 1.0 ? 1.0 / scale : 1.0;
  f.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  f.first.resize(out_size);
  f.count.resize(out_size);
  f.weights.assign(size_t(out_size) * f.max_taps, 0.0f);
  std::vector<double> w(f.max_taps);
  for (int i = 0; i < out_size; ++i) {
    const double center = scale * (i + 0.5);
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = std::min(hi - lo, f.max_taps);
    double total = 0.0;
    for (int k = 0; k < n; ++k) {
      const double x = std::fabs((k + lo - center + 0.5) * inv_scale);
      w[k] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[k];
    }
    f.first[i] = lo;
    f.count[i] = n;
    for (int k = 0; k < n; ++k) f.weights[size_t(i) * f.max_taps + k] = static_cast<float>(total != 0.0 ? w[k] / total : w[k]);
  }
}

struct Scratch {
  AxisFilter columns, rows;
  std::vector<float> ring;  // horizontally filtered source rows: [slots][3][out width]
};

}  // namespace

void sam2_image_tensor(const ImageView& image, Size size, bool bgr_input, float* out) {
  thread_local Scratch s;
  const int W = size.width, H = size.height;
  antialias_filter(image.width, W, s.columns);
  antialias_filter(image.height, H, s.rows);
  int slots = 1;
  for (int i = 0; i < H; ++i) slots = std::max(slots, s.rows.count[i]);
  const int64_t ring_row = int64_t{3} * W;
  s.ring.resize(size_t(slots) * ring_row);

  float to_unit[256];  // ToTensor: p / 255 in float32
  for (int p = 0; p < 256; ++p) to_unit[p] = static_cast<float>(p) / 255.0f;
  int channel_byte[3];
  for (int c = 0; c < 3; ++c) channel_byte[c] = bgr_input ? 2 - c : c;

  const AxisFilter& fx = s.columns;
  auto filter_row = [&](int r) {
    const uint8_t* row = image.data + r * image.row_stride;
    float* dst = s.ring.data() + size_t(r % slots) * ring_row;
    for (int c = 0; c < 3; ++c) {
      const uint8_t* src = row + channel_byte[c];
      float* d = dst + int64_t{c} * W;
      for (int j = 0; j < W; ++j) {
        const float* w = fx.weights.data() + size_t(j) * fx.max_taps;
        const uint8_t* p = src + fx.first[j] * image.pixel_stride;
        float acc = 0.0f;
        for (int k = 0; k < fx.count[j]; ++k) acc += to_unit[p[k * image.pixel_stride]] * w[k];
        d[j] = acc;
      }
    }
  };

  const int64_t plane = int64_t{W} * H;
  int next_row = 0;  // rows below this one are in the ring (or no longer needed)
  for (int i = 0; i < H; ++i) {
    const int lo = s.rows.first[i], n = s.rows.count[i];
    for (int r = std::max(next_row, lo); r < lo + n; ++r) filter_row(r);
    next_row = std::max(next_row, lo + n);
    const float* w = s.rows.weights.data() + size_t(i) * s.rows.max_taps;
    for (int c = 0; c < 3; ++c) {
      float* d = out + c * plane + int64_t{i} * W;
      std::fill(d, d + W, 0.0f);
      for (int k = 0; k < n; ++k) {
        const float* src = s.ring.data() + size_t((lo + k) % slots) * ring_row + int64_t{c} * W;
        const float wk = w[k];
        for (int j = 0; j < W; ++j) d[j] += src[j] * wk;
      }
    }
  }
}

}  // namespace edgevision
