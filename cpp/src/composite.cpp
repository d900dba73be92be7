#include "edgevision/composite.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "kernels/float_taps.inl"  // axis_taps for the upsampling tables
#include "small_image.hpp"
#include "flush_denormals.hpp"

namespace edgevision {

BlurPlan plan_blur(float sigma) {
  // Box-average by `factor`, Gaussian at low resolution, bilinear back up. Their variances
  // add up: (f^2 - 1)/12 for the box, f^2/6 for the linear interpolation's hat, and the
  // low-resolution Gaussian's (low_sigma * f)^2 makes up the rest of sigma^2. A factor of
  // sigma/2 keeps low_sigma near 2 low-res pixels: well sampled, cheap.
  const int factor = std::clamp(static_cast<int>(sigma / 2.0f), 1, 32);
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

struct Scratch {
  std::vector<int32_t> ints;
  std::vector<float> floats;
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

// Low-resolution blurred copy of `image`: interleaved floats, `low_w` x `low_h` x channels.
void blurred_low_res(const ImageView& image, int32_t last_word, const BlurPlan& plan, Scratch& s,
                     std::vector<float>& low, int& low_w, int& low_h) {
  const int C = image.channels, f = plan.factor;
  low_w = (image.width + f - 1) / f;
  low_h = (image.height + f - 1) / f;
  const int low_n = low_w * C;
  low.resize(size_t(low_n) * low_h);

  thread_local std::vector<int32_t> elem_off;
  element_offsets(image, image.width, C, elem_off);
  s.ints.resize(size_t(f) * low_n);
  for (int t = 0; t < f; ++t)
    for (int lx = 0; lx < low_w; ++lx)
      for (int c = 0; c < C; ++c)
        s.ints[size_t(t) * low_n + lx * C + c] = std::min(lx * f + t, image.width - 1) * C + c;
  const int taps = 2 * plan.radius + 1;
  s.floats.resize(size_t(image.width) * C + size_t(taps) + size_t(low_w + 2 * plan.radius) * C + low.size());
  float* row_sum = s.floats.data();
  float* weights = row_sum + size_t(image.width) * C;
  float* padded_row = weights + taps;
  float* column_tmp = padded_row + size_t(low_w + 2 * plan.radius) * C;

  kernels::BoxDownsampleJob down{};
  down.src = image;
  down.last_word = last_word;
  down.factor = f;
  down.low_w = low_w;
  down.low_h = low_h;
  down.elem_off = elem_off.empty() ? nullptr : elem_off.data();
  down.box_taps = s.ints.data();
  down.row_sum = row_sum;
  down.out = low.data();
  const kernels::KernelTable& table = kernels::active_table();
  table.box_downsample(down);

  double total = 0;
  for (int t = 0; t < taps; ++t) {
    const double d = t - plan.radius;
    weights[t] = static_cast<float>(std::exp(-d * d / (2.0 * plan.low_sigma * plan.low_sigma)));
    total += weights[t];
  }
  for (int t = 0; t < taps; ++t) weights[t] = static_cast<float>(weights[t] / total);

  kernels::GaussianBlurJob blur{};
  blur.image = low.data();
  blur.width = low_w;
  blur.height = low_h;
  blur.channels = C;
  blur.weights = weights;
  blur.radius = plan.radius;
  blur.padded_row = padded_row;
  blur.column_tmp = column_tmp;
  table.gaussian_blur(blur);
}

}  // namespace

void composite(const ImageView& image, const CompositeMask& mask, const Background& background, uint8_t* out) {
  const FlushDenormals flush_denormals;
  thread_local Scratch scratch;
  thread_local std::vector<int32_t> fg_off, bg_off, up_ints;
  thread_local std::vector<float> color_row, mask_row, low, up_floats;

  const ReadableImage fg(image);
  const int W = image.width, H = image.height, C = image.channels;
  const size_t row_n = size_t(W) * C;

  kernels::BlendJob job{};
  job.fg = fg.view();
  job.fg_last_word = fg.last_word();
  element_offsets(fg.view(), W, C, fg_off);
  job.fg_elem_off = fg_off.empty() ? nullptr : fg_off.data();

  if (mask.weights.data != nullptr) {
    job.mask_f32 = mask.weights.data;
    job.mask_row_stride = mask.weights.row_stride;
    job.mask_col_stride = mask.weights.col_stride;
  } else {
    job.mask_u8 = mask.binary.data;
    job.mask_row_stride = mask.binary.row_stride;
    job.mask_col_stride = mask.binary.col_stride;
  }
  mask_row.resize(row_n);
  job.mask_row = mask_row.data();

  const ReadableImage bg(background.kind == Background::Kind::image ? background.image : image);
  switch (background.kind) {
    case Background::Kind::color:
      job.background = kernels::BackgroundKind::color;
      color_row.resize(row_n);
      for (size_t k = 0; k < row_n; ++k) color_row[k] = background.color[k % C];
      job.color_row = color_row.data();
      break;
    case Background::Kind::image:
      job.background = kernels::BackgroundKind::image;
      job.bg = bg.view();
      job.bg_last_word = bg.last_word();
      element_offsets(bg.view(), W, C, bg_off);
      job.bg_elem_off = bg_off.empty() ? nullptr : bg_off.data();
      break;
    case Background::Kind::blur: {
      job.background = kernels::BackgroundKind::upsampled;
      const BlurPlan plan = plan_blur(background.blur_sigma);
      int low_w, low_h;
      blurred_low_res(fg.view(), fg.last_word(), plan, scratch, low, low_w, low_h);
      job.low = low.data();
      job.low_row_elems = low_w * C;
      // Bilinear upsample with half-pixel centres: frame pixel X reads low (X + 0.5)/f - 0.5.
      up_ints.resize(2 * row_n + 2 * size_t(H));
      up_floats.resize(2 * row_n + 2 * size_t(H) + 2 * row_n);
      int32_t *off0 = up_ints.data(), *off1 = off0 + row_n, *r0 = off1 + row_n, *r1 = r0 + H;
      float *w0 = up_floats.data(), *w1 = w0 + row_n, *rw0 = w1 + row_n, *rw1 = rw0 + H;
      const float inv_f = 1.0f / static_cast<float>(plan.factor);
      for (int x = 0; x < W; ++x) {
        int32_t i0, i1;
        float a, b;
        kernels::axis_taps<simd::ScalarOps>((static_cast<float>(x) + 0.5f) * inv_f - 0.5f, low_w, Border::replicate,
                                            i0, i1, a, b);
        for (int c = 0; c < C; ++c) {
          const size_t k = size_t(x) * C + c;
          off0[k] = i0 * C + c;
          off1[k] = i1 * C + c;
          w0[k] = a;
          w1[k] = b;
        }
      }
      for (int y = 0; y < H; ++y)
        kernels::axis_taps<simd::ScalarOps>((static_cast<float>(y) + 0.5f) * inv_f - 0.5f, low_h, Border::replicate,
                                            r0[y], r1[y], rw0[y], rw1[y]);
      job.up_off0 = off0;
      job.up_off1 = off1;
      job.up_w0 = w0;
      job.up_w1 = w1;
      job.up_row0 = r0;
      job.up_row1 = r1;
      job.up_row_w0 = rw0;
      job.up_row_w1 = rw1;
      job.cache = rw1 + H;
      break;
    }
  }
  job.out = out;
  kernels::active_table().blend(job);
}

}  // namespace edgevision
