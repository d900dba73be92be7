#include "edgevision/resize_mask.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "cache_line_scratch.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/window_gather.inl"  // window_plan_ints
#include "mask_resample_plan.hpp"
#include "flush_denormals.hpp"
#include "parallel/chunks.hpp"

namespace edgevision {

namespace {

using Matrix = Transform::Matrix;

// Half-pixel-centre rescale of pixel coordinates from a grid of `from` pixels to `to` pixels.
Matrix rescale(Size from, Size to) {
  const double kx = double(to.width) / from.width, ky = double(to.height) / from.height;
  return {kx, 0, 0.5 * kx - 0.5, 0, ky, 0.5 * ky - 0.5, 0, 0, 1};
}

// Positions within half a pixel of the content count as inside (float slack included).
constexpr double kEdgeSlack = 0.5 + 1e-3;

// Separable taps from a double-precision position (as cv2.resize computes them): indices
// clamped to [first, last], weights zeroed per tap (zero border) or for positions outside
// [valid_lo, valid_hi] (replicate).
void axis_table(double pos, int first, int last, Border border, double valid_lo, double valid_hi, int32_t& i0,
                int32_t& i1, float& w0, float& w1) {
  pos = std::clamp(pos, first - 2.0, last + 2.0);
  const double base = std::floor(pos);
  w1 = static_cast<float>(pos - base);
  w0 = 1.0f - w1;
  i0 = static_cast<int32_t>(base);
  i1 = i0 + 1;
  if (border == Border::zero) {
    if (i0 < first || i0 > last) w0 = 0.0f;
    if (i1 < first || i1 > last) w1 = 0.0f;
  } else if (!(pos >= valid_lo && pos <= valid_hi)) {
    w0 = w1 = 0.0f;
  }
  i0 = std::clamp(i0, first, last);
  i1 = std::clamp(i1, first, last);
}

}  // namespace

void plan_mask_resample(const PlaneView<float>& mask, const MaskResize& options, MaskResamplePlan& plan) {
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

  kernels::ResampleMaskJob& job = plan.job;
  job = kernels::ResampleMaskJob{};
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
  job.row_begin = 0;
  job.row_end = out_size.height;
  job.out = nullptr;

  plan.separable = map[1] == 0.0 && map[3] == 0.0;
  if (!plan.separable) return;

  // Axis-aligned: per-column and per-row taps in double precision, built again only when the
  // geometry changes (the map, the content, the sizes, the border and the mask's column step).
  const int W = out_size.width, H = out_size.height;
  const std::array<double, 14> key{map[0], map[2], map[4], map[5], content_x0, content_y0, content_x1, content_y1,
                                double(W), double(H), double(mask.width), double(mask.height),
                                double(mask.col_stride), double(border == Border::zero)};
  // Each table on a cache line: the kernels load a vector of column taps and weights per
  // vector of outputs, and a load across two lines costs two.
  const size_t columns = cache_line_row<float>(W), rows = cache_line_row<float>(H);
  int32_t* ints = cache_line_scratch(plan.ints, 2 * columns + 2 * rows);
  float* floats = cache_line_scratch(plan.floats, 2 * columns + 2 * rows);
  int32_t *col_off0 = ints, *col_off1 = ints + columns, *row0 = ints + 2 * columns, *row1 = row0 + rows;
  float *col_w0 = floats, *col_w1 = floats + columns, *row_w0 = floats + 2 * columns, *row_w1 = row_w0 + rows;
  if (!plan.has_tables || key != plan.tables_key) {
    for (int j = 0; j < W; ++j) {
      int32_t i0, i1;
      axis_table(map[0] * j + map[2], job.tap_x0, job.tap_x1, border, content_x0 - kEdgeSlack,
                 content_x1 - 1 + kEdgeSlack, i0, i1, col_w0[j], col_w1[j]);
      col_off0[j] = static_cast<int32_t>(i0 * mask.col_stride);
      col_off1[j] = static_cast<int32_t>(i1 * mask.col_stride);
    }
    for (int i = 0; i < H; ++i)
      axis_table(map[4] * i + map[5], job.tap_y0, job.tap_y1, border, content_y0 - kEdgeSlack,
                 content_y1 - 1 + kEdgeSlack, row0[i], row1[i], row_w0[i], row_w1[i]);
    plan.tables_key = key;
    plan.has_tables = true;
  }
  job.col_off0 = col_off0;
  job.col_off1 = col_off1;
  job.col_w0 = col_w0;
  job.col_w1 = col_w1;
  job.row0 = row0;
  job.row1 = row1;
  job.row_w0 = row_w0;
  job.row_w1 = row_w1;
}

void run_mask_resample(const MaskResamplePlan& plan, int threads) {
  struct WorkerScratch {
    std::vector<float> cache;         // the separable path's two horizontally interpolated rows
    float* cache_rows = nullptr;      // their first, on a cache line
    std::vector<int32_t> window_plan_storage;
    int32_t* window_plan = nullptr;  // its column plan (on a cache line), made on the worker's first chunk
    bool planned = false;
  };
  thread_local std::array<WorkerScratch, parallel::kMaxWorkers> caller_scratch;
  auto& scratch = caller_scratch;  // the caller's, also for the helpers running the lambda
  const kernels::ResampleMaskJob& job = plan.job;
  const parallel::RowSplit split = parallel::split_rows(job.height, job.width, threads);
  const size_t cache_row_stride = cache_line_row<float>(job.width);
  if (plan.separable) {
    for (int k = 0; k < split.workers; ++k) {
      scratch[k].cache_rows = cache_line_scratch(scratch[k].cache, 2 * cache_row_stride);
      scratch[k].window_plan = cache_line_scratch(scratch[k].window_plan_storage, kernels::window_plan_ints(job.width));
      scratch[k].planned = false;
    }
  }
  const kernels::KernelTable& table = kernels::active_table();
  const bool separable = plan.separable;
  auto run_rows = [&](int worker, int64_t begin, int64_t end) {
    const FlushDenormals flush_denormals;  // per thread
    kernels::ResampleMaskJob part = job;
    part.row_begin = static_cast<int>(begin);
    part.row_end = static_cast<int>(end);
    if (separable) {
      WorkerScratch& w = scratch[worker];
      part.cache = w.cache_rows;
      part.cache_row_stride = static_cast<int64_t>(cache_row_stride);
      part.window_plan = w.window_plan;
      part.window_planned = w.planned;
      table.resample_mask_separable(part);
      w.planned = true;
    } else {
      table.resample_mask_affine(part);
    }
  };
  parallel::for_chunks(job.height, split.chunk, split.workers, run_rows);
}

void resize_mask(const PlaneView<float>& mask, const MaskResize& options, void* out, int threads) {
  thread_local MaskResamplePlan plan;
  plan_mask_resample(mask, options, plan);
  plan.job.out = out;
  run_mask_resample(plan, threads);
}

}  // namespace edgevision
