#include "edgevision/composite.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "cache_line_scratch.hpp"
#include "kernels/kernel_table.hpp"
#include "kernels/window_gather.inl"  // window_plan_ints
#include "kernels/float_taps.inl"  // axis_taps for the upsampling tables
#include "flush_denormals.hpp"
#include "mask_resample_plan.hpp"
#include "parallel/chunks.hpp"

namespace edgevision {

BlurPlan plan_blur(float sigma) {
  constexpr float kSigmaPerFactor = 1.6f;
  // Box-average by `factor`, Gaussian at low resolution, bilinear back up. Their variances
  // add up: (f^2 - 1)/12 for the box, f^2/6 for the linear interpolation's hat, and the
  // low-resolution Gaussian's (low_sigma * f)^2 makes up the rest of sigma^2. A factor of
  // sigma/1.6 keeps low_sigma near 1.5 low-res pixels: still well sampled, and cheap.
  const int factor = std::clamp(static_cast<int>(sigma / kSigmaPerFactor), 1, 32);
  float low_sigma = sigma;
  if (factor > 1) {
    const double f2 = double(factor) * factor;
    const double rest = double(sigma) * sigma - (f2 - 1) / 12 - f2 / 6;
    low_sigma = static_cast<float>(std::sqrt(std::max(rest, 0.25)) / factor);
  }
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0f * low_sigma)));
  return {factor, low_sigma, radius};
}

namespace {

// One worker's scratch for the blur: the downsample's column and block sums, and the
// Gaussian's padded row, column pass and tap rows.
struct BlurScratch {
  std::vector<int16_t> sums;
  std::vector<float> floats;
  std::vector<const float*> tap_rows;
};

// Element offsets of an interleaved row (k = x * channels + c) in a strided image; empty when
// the image rows are contiguous with the same channel count (plain loads suffice).
void element_offsets(const ImageView& img, int width, int channels, std::vector<int32_t>& offsets) {
  offsets.clear();
  if (img.pixel_stride == channels && img.channels == channels) return;
  offsets.resize(size_t(width) * channels);
  for (int x = 0; x < width; ++x)
    for (int c = 0; c < channels; ++c)
      offsets[size_t(x) * channels + c] = static_cast<int32_t>(x * img.pixel_stride + (c < img.channels ? c : 0));
}

// Low-resolution blurred copy of `image`: `channels` float planes of `low_w` x `low_h`. The
// downsample's rows and the Gaussian's planes are shared among up to `threads` workers.
void blurred_low_res(const ImageView& image, const BlurPlan& plan, int threads, std::vector<float>& low, int& low_w,
                     int& low_h) {
  const int C = image.channels, f = plan.factor;
  low_w = (image.width + f - 1) / f;
  low_h = (image.height + f - 1) / f;
  const size_t plane = size_t(low_w) * low_h;
  low.resize(plane * C);

  thread_local std::vector<int32_t> elem_off;
  thread_local std::vector<float> weight_storage;
  thread_local std::array<BlurScratch, parallel::kMaxWorkers> worker_storage;
  auto& workers = worker_storage;  // the caller's, also for the helpers running the lambdas
  element_offsets(image, image.width, C, elem_off);
  const int taps = 2 * plan.radius + 1;
  weight_storage.resize(taps);
  float* weights = weight_storage.data();
  double total = 0;
  for (int t = 0; t < taps; ++t) {
    const double d = t - plan.radius;
    weights[t] = static_cast<float>(std::exp(-d * d / (2.0 * plan.low_sigma * plan.low_sigma)));
    total += weights[t];
  }
  for (int t = 0; t < taps; ++t) weights[t] = static_cast<float>(weights[t] / total);

  const parallel::RowSplit split = parallel::split_rows(image.height, image.width, threads);
  for (int k = 0; k < split.workers; ++k) {
    BlurScratch& w = workers[k];
    // Column sums, then block sums; vectors of block sums read up to factor * C elements past
    // the row (into lanes whose results are not used), hence the room.
    w.sums.resize(2 * (size_t(image.width) * C + size_t(f) * C + 64));
    w.tap_rows.resize(taps);
    w.floats.resize(size_t(low_w + 2 * plan.radius) + plane);
  }
  const kernels::KernelTable& table = kernels::active_table();

  kernels::BoxDownsampleJob down{};
  down.src = image;
  down.factor = f;
  down.low_w = low_w;
  down.low_h = low_h;
  down.elem_off = elem_off.empty() ? nullptr : elem_off.data();
  down.out = low.data();
  auto downsample_rows = [&](int worker, int64_t begin, int64_t end) {
    kernels::BoxDownsampleJob part = down;
    part.row_begin = static_cast<int>(begin);
    part.row_end = static_cast<int>(end);
    std::vector<int16_t>& sums = workers[worker].sums;
    part.column_sum = sums.data();
    part.block_sum = sums.data() + sums.size() / 2;
    table.box_downsample(part);
  };
  // Chunks of low rows holding about split.chunk frame rows.
  parallel::for_chunks(low_h, std::max<int64_t>(1, split.chunk / f), split.workers, downsample_rows);

  kernels::GaussianBlurJob blur{};
  blur.width = low_w;
  blur.height = low_h;
  blur.weights = weights;
  blur.radius = plan.radius;
  auto blur_planes = [&](int worker, int64_t begin, int64_t end) {
    BlurScratch& w = workers[worker];
    kernels::GaussianBlurJob part = blur;
    part.padded_row = w.floats.data();
    part.column_tmp = w.floats.data() + low_w + 2 * plan.radius;
    part.tap_rows = w.tap_rows.data();
    for (int64_t c = begin; c < end; ++c) {
      part.image = low.data() + c * plane;
      table.gaussian_blur(part);
    }
  };
  parallel::for_chunks(C, 1, split.workers, blur_planes);
}

// The blend's background from low-resolution planes (low_w x low_h, box factor `factor`):
// separable bilinear taps with half-pixel centres into the tables, frame pixel X reading low
// position (X + 0.5)/factor - 0.5.
void upsampled_background(const float* low, int low_w, int low_h, int factor, int W, int H,
                          std::vector<int32_t>& ints, std::vector<float>& floats, kernels::BlendJob& job) {
  job.background = kernels::BackgroundKind::upsampled;
  job.up.low = low;
  job.up.low_w = low_w;
  job.up.low_plane = low_w * low_h;
  ints.resize(2 * size_t(W) + 4 * size_t(H));
  floats.resize(2 * size_t(W));
  int32_t *off0 = ints.data(), *off1 = off0 + W, *r0 = off1 + W, *r1 = r0 + H;
  int32_t *q0 = r1 + H, *q1 = q0 + H;
  float *w0 = floats.data(), *w1 = w0 + W;
  const float inv_f = 1.0f / static_cast<float>(factor);
  for (int x = 0; x < W; ++x)
    kernels::axis_taps<simd::ScalarOps>((static_cast<float>(x) + 0.5f) * inv_f - 0.5f, low_w, Border::replicate,
                                        off0[x], off1[x], w0[x], w1[x]);
  for (int y = 0; y < H; ++y) {
    float a, b;
    kernels::axis_taps<simd::ScalarOps>((static_cast<float>(y) + 0.5f) * inv_f - 0.5f, low_h, Border::replicate,
                                        r0[y], r1[y], a, b);
    q1[y] = std::clamp(static_cast<int32_t>(std::lround(b * 32768.0f)), 0, 32768);
    q0[y] = 32768 - q1[y];
  }
  job.up.off0 = off0;
  job.up.off1 = off1;
  job.up.w0 = w0;
  job.up.w1 = w1;
  job.up.row0 = r0;
  job.up.row1 = r1;
  job.up.row_q0 = q0;
  job.up.row_q1 = q1;
}

}  // namespace

// ------------------------------------------------------------------------------ BlurredFrame

struct BlurredFrame::State {
  ImageView image;
  BlurPlan plan{};
  std::vector<float> low;
  int low_w = 0, low_h = 0;
  // The blend's background fields, with every low row's horizontal pass made ahead (`rows`).
  kernels::BlendJob background{};
  std::vector<int32_t> up_ints, window_plan;
  std::vector<float> up_floats, row_scratch;
  std::vector<int16_t> rows;
  bool started = false;
  parallel::PendingChunks pending;

  void compute() {
    const FlushDenormals flush_denormals;  // on the helper, as on a composite's caller
    blurred_low_res(image, plan, 1, low, low_w, low_h);
    const int W = image.width, H = image.height, C = image.channels;
    const size_t n = size_t(W) * C, pad = 64;
    background = kernels::BlendJob{};
    background.fg = image;  // its width and channels
    upsampled_background(low.data(), low_w, low_h, plan.factor, W, H, up_ints, up_floats, background);
    row_scratch.resize(2 * (n + pad));
    background.up_planes = row_scratch.data();
    background.up_float_row = row_scratch.data() + n + pad;
    background.up_window_plan = cache_line_scratch(window_plan, kernels::window_plan_ints(W));
    rows.resize(size_t(low_h) * n);
    kernels::active_table().upsample_background_rows(background, rows.data());
    background.up.rows = rows.data();
    background.up_window_plan = nullptr;  // each blend worker has its own
  }
};

BlurredFrame::BlurredFrame() : state_(new State) {}
BlurredFrame::~BlurredFrame() {
  finish();
  delete state_;
}

void BlurredFrame::start(const ImageView& image, float sigma, int threads) {
  State& s = *state_;
  s.pending.finish();  // the previous frame's, if it was never used
  s.image = image;
  s.plan = plan_blur(sigma);
  s.started = true;
  // One chunk: the whole blur on one helper (the caller is busy with something else).
  s.pending.start(1, 1, threads > 1 ? 2 : 1,
                  [](void* context, int, int64_t, int64_t) { static_cast<State*>(context)->compute(); }, &s);
}

void BlurredFrame::finish() { state_->pending.finish(); }
int BlurredFrame::width() const { return state_->image.width; }
int BlurredFrame::height() const { return state_->image.height; }
int BlurredFrame::channels() const { return state_->image.channels; }
bool BlurredFrame::started() const { return state_->started; }

namespace {

// One worker's scratch rows for the blend (see BlendJob), kept across its chunks of a call.
struct BlendScratch {
  std::vector<float> floats;
  std::vector<int16_t> shorts;
  std::vector<int32_t> window_plans;      // the mask's columns, then the background's (each on a cache line)
  kernels::ResampleMaskJob mask_resample;  // the mask plan's job with this worker's scratch
  bool planned = false;

  // Points `job`'s scratch at these buffers (sized for W pixels of `channels`).
  void attach(kernels::BlendJob& job, int W, int channels) {
    const size_t row_n = size_t(W) * channels, pad = 64;
    // Mask row, mask cache (2), up-float row, up planes | weight row, weights, two upsampled
    // background rows, background and foreground rows.
    floats.resize(3 * (size_t(W) + pad) + 2 * (row_n + pad));
    job.mask_row = floats.data();
    job.mask_cache = job.mask_row + W + pad;
    job.up_float_row = job.mask_cache + 2 * (size_t(W) + pad);
    job.up_planes = job.up_float_row + row_n + pad;
    shorts.resize(size_t(W) + pad + 5 * (row_n + pad));
    int16_t* next = shorts.data();
    const auto take = [&next](size_t n) { int16_t* p = next; next += n; return p; };
    job.weight_row = take(W + pad);
    job.weight_elements = take(row_n + pad);
    job.up_cache = take(2 * (row_n + pad));
    job.bg_row = take(row_n + pad);
    job.fg_row = take(row_n + pad);
    int32_t* const plans = cache_line_scratch(window_plans, 2 * kernels::window_plan_ints(W));
    job.up_window_plan = plans + kernels::window_plan_ints(W);
    job.up_window_planned = planned;
    if (job.mask_resample != nullptr) {
      mask_resample = *job.mask_resample;
      mask_resample.window_plan = plans;
      mask_resample.window_planned = planned;
      job.mask_resample = &mask_resample;
    }
  }
};

}  // namespace

void composite(const ImageView& image, const CompositeMask& mask, const Background& background, uint8_t* out,
               int threads) {
  const FlushDenormals flush_denormals;
  thread_local MaskResamplePlan mask_plan;
  thread_local std::array<BlendScratch, parallel::kMaxWorkers> blend_scratch;
  thread_local std::vector<int32_t> fg_off, bg_off, up_ints;
  thread_local std::vector<float> low, up_floats;
  thread_local std::vector<int16_t> color_row;
  thread_local std::vector<uint8_t> rotated_mask;

  const int W = image.width, H = image.height, C = image.channels;
  const size_t row_n = size_t(W) * C;

  kernels::BlendJob job{};
  job.fg = image;
  element_offsets(image, W, C, fg_off);
  job.fg_elem_off = fg_off.empty() ? nullptr : fg_off.data();

  job.thresholded = mask.threshold.has_value();
  job.threshold = mask.threshold.value_or(0.0f);
  if (mask.binary.data != nullptr) {
    job.mask_u8 = mask.binary.data;
    job.mask_row_stride = mask.binary.row_stride;
    job.mask_col_stride = mask.binary.col_stride;
  } else if (mask.transform == nullptr && mask.weights.width == W && mask.weights.height == H) {
    job.mask_f32 = mask.weights.data;
    job.mask_row_stride = mask.weights.row_stride;
    job.mask_col_stride = mask.weights.col_stride;
  } else {
    MaskResize resize;
    resize.size = {W, H};
    resize.transform = mask.transform;
    resize.border = mask.border;
    plan_mask_resample(mask.weights, resize, mask_plan);
    if (mask_plan.separable) {
      job.mask_resample = &mask_plan.job;
    } else {  // a rotated ROI: resample the whole mask first
      rotated_mask.resize(size_t(W) * H * sizeof(float));
      mask_plan.job.out = rotated_mask.data();
      run_mask_resample(mask_plan, threads);
      job.mask_f32 = reinterpret_cast<const float*>(rotated_mask.data());
      job.mask_row_stride = W;
      job.mask_col_stride = 1;
    }
  }

  switch (background.kind) {
    case Background::Kind::color:
      job.background = kernels::BackgroundKind::color;
      color_row.resize(row_n);
      for (size_t k = 0; k < row_n; ++k) color_row[k] = simd::ScalarOps::saturate_q(background.color[k % C] * 64.0f);
      job.color_row = color_row.data();
      break;
    case Background::Kind::image:
      job.background = kernels::BackgroundKind::image;
      job.bg = background.image;
      element_offsets(background.image, W, C, bg_off);
      job.bg_elem_off = bg_off.empty() ? nullptr : bg_off.data();
      break;
    case Background::Kind::blur: {
      const BlurPlan plan = plan_blur(background.blur_sigma);
      int low_w, low_h;
      blurred_low_res(image, plan, threads, low, low_w, low_h);
      upsampled_background(low.data(), low_w, low_h, plan.factor, W, H, up_ints, up_floats, job);
      break;
    }
    case Background::Kind::blurred: {
      BlurredFrame& blurred = *background.blurred;
      blurred.finish();
      if (blurred.width() != W || blurred.height() != H || blurred.channels() != C)
        throw std::invalid_argument("the blurred background must be the frame's size and channels");
      job.background = kernels::BackgroundKind::upsampled;
      job.up = blurred.state_->background.up;
      break;
    }
  }
  job.out = out;

  const parallel::RowSplit split = parallel::split_rows(H, W, threads);
  auto& workers = blend_scratch;  // the caller's, also for the helpers running the lambda
  for (int k = 0; k < split.workers; ++k) workers[k].planned = false;
  const kernels::KernelTable& table = kernels::active_table();
  auto run_rows = [&](int worker, int64_t begin, int64_t end) {
    const FlushDenormals flush_helper_denormals;  // per thread
    kernels::BlendJob part = job;
    part.row_begin = static_cast<int>(begin);
    part.row_end = static_cast<int>(end);
    workers[worker].attach(part, W, C);
    table.blend(part);
    workers[worker].planned = true;
  };
  parallel::for_chunks(H, split.chunk, split.workers, run_rows);
}

}  // namespace edgevision
