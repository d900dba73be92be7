#include "edgevision/resize_mask.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "kernels/sample_image.inl"  // axis_taps: the tables must use the kernels' arithmetic

namespace edgevision {

namespace {

using Matrix = Transform::Matrix;

// Half-pixel-centre rescale of pixel coordinates from a grid of `from` pixels to `to` pixels.
Matrix rescale(Size from, Size to) {
  const double kx = double(to.width) / from.width, ky = double(to.height) / from.height;
  return {kx, 0, 0.5 * kx - 0.5, 0, ky, 0.5 * ky - 0.5, 0, 0, 1};
}

struct Scratch {
  std::vector<int32_t> ints;
  std::vector<float> floats;
};

// Positions within half a pixel of the content count as inside (float slack included).
constexpr double kEdgeSlack = 0.5 + 1e-3;

}  // namespace

void resize_mask(const PlaneView<float>& mask, const MaskResize& options, void* out) {
  const Size out_size = options.size;
  const Size mask_size{mask.width, mask.height};
  Matrix map;  // frame pixel -> mask pixel
  double content_x0 = 0, content_y0 = 0, content_x1 = mask.width, content_y1 = mask.height;
  Border border = Border::replicate;
  if (options.transform == nullptr) {
    map = rescale(out_size, mask_size);  // cv2.resize(INTER_LINEAR)
  } else {
    const Transform& t = *options.transform;
    map = multiply(rescale(t.src_size(), mask_size),
                   multiply(t.inverse().matrix(), rescale(out_size, t.dst_size())));
    const double kx = double(mask.width) / t.src_size().width, ky = double(mask.height) / t.src_size().height;
    const PixelRect c = t.content();
    content_x0 = c.x0 * kx;
    content_x1 = c.x1 * kx;
    content_y0 = c.y0 * ky;
    content_y1 = c.y1 * ky;
    border = options.border;
  }

  kernels::ResampleMaskJob job{};
  job.src = mask;
  job.width = out_size.width;
  job.height = out_size.height;
  job.map = {{float(map[0]), float(map[1]), float(map[2]), float(map[3]), float(map[4]), float(map[5])}};
  job.border = border;
  job.tap_x0 = std::clamp(static_cast<int>(std::lround(content_x0)), 0, mask.width - 1);
  job.tap_x1 = std::clamp(static_cast<int>(std::lround(content_x1)) - 1, job.tap_x0, mask.width - 1);
  job.tap_y0 = std::clamp(static_cast<int>(std::lround(content_y0)), 0, mask.height - 1);
  job.tap_y1 = std::clamp(static_cast<int>(std::lround(content_y1)) - 1, job.tap_y0, mask.height - 1);
  job.valid_x0 = float(content_x0 - kEdgeSlack);
  job.valid_x1 = float(content_x1 - 1 + kEdgeSlack);
  job.valid_y0 = float(content_y0 - kEdgeSlack);
  job.valid_y1 = float(content_y1 - 1 + kEdgeSlack);
  job.thresholded = options.threshold.has_value();
  job.threshold = options.threshold.value_or(0.0f);
  job.out = out;

  const kernels::KernelTable& table = kernels::active_table();
  if (job.map.m[1] != 0.0f || job.map.m[3] != 0.0f) {
    table.resample_mask_affine(job);
    return;
  }

  // Axis-aligned: per-column and per-row taps computed once, exactly as the affine kernel
  // would compute them for every pixel.
  thread_local Scratch scratch;
  const int W = out_size.width, H = out_size.height;
  scratch.ints.resize(2 * size_t(W) + 2 * size_t(H));
  scratch.floats.resize(2 * size_t(W) + 2 * size_t(H) + 2 * size_t(W));
  int32_t* ints = scratch.ints.data();
  float* floats = scratch.floats.data();
  int32_t *col_off0 = ints, *col_off1 = ints + W, *row0 = ints + 2 * W, *row1 = row0 + H;
  float *col_w0 = floats, *col_w1 = floats + W, *row_w0 = floats + 2 * W, *row_w1 = row_w0 + H;
  using Scalar = simd::ScalarOps;
  const float* m = job.map.m;
  for (int j = 0; j < W; ++j) {
    const float sx = m[0] * static_cast<float>(j) + m[2];
    int32_t i0, i1;
    float w0, w1;
    kernels::axis_taps<Scalar>(sx - static_cast<float>(job.tap_x0), job.tap_x1 - job.tap_x0 + 1, border, i0, i1,
                               w0, w1);
    if (border == Border::replicate && !(sx >= job.valid_x0 && sx <= job.valid_x1)) w0 = w1 = 0.0f;
    col_off0[j] = static_cast<int32_t>((i0 + job.tap_x0) * mask.col_stride);
    col_off1[j] = static_cast<int32_t>((i1 + job.tap_x0) * mask.col_stride);
    col_w0[j] = w0;
    col_w1[j] = w1;
  }
  for (int i = 0; i < H; ++i) {
    const float sy = m[4] * static_cast<float>(i) + m[5];
    int32_t i0, i1;
    float w0, w1;
    kernels::axis_taps<Scalar>(sy - static_cast<float>(job.tap_y0), job.tap_y1 - job.tap_y0 + 1, border, i0, i1,
                               w0, w1);
    if (border == Border::replicate && !(sy >= job.valid_y0 && sy <= job.valid_y1)) w0 = w1 = 0.0f;
    row0[i] = i0 + job.tap_y0;
    row1[i] = i1 + job.tap_y0;
    row_w0[i] = w0;
    row_w1[i] = w1;
  }
  job.col_off0 = col_off0;
  job.col_off1 = col_off1;
  job.col_w0 = col_w0;
  job.col_w1 = col_w1;
  job.row0 = row0;
  job.row1 = row1;
  job.row_w0 = row_w0;
  job.row_w1 = row_w1;
  job.cache = floats + 2 * W + 2 * H;
  table.resample_mask_separable(job);
}

}  // namespace edgevision
