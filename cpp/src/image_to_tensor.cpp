#include "edgevision/image_to_tensor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "parallel/chunks.hpp"

namespace edgevision {

namespace {
// A sampled pixel (two rows of taps from a frame that is usually cold in cache) costs about as
// much as this many pixels of a mask resize: the unit of parallel::split_rows. At 16 a 256x144
// tensor from a cold 720p frame takes two workers (0.11 -> 0.07 ms on this project's VM).
constexpr int64_t kPixelsPerSample = 16;
}  // namespace

Transform letterbox_transform(Size image, Size tensor, bool keep_aspect, Sampling sampling) {
  const double W = image.width, H = image.height, tw = tensor.width, th = tensor.height;
  if (sampling == Sampling::mediapipe) {
    // MediaPipe's ImageToTensor: the whole-image ROI grown to the tensor aspect, sampled
    // at integer positions (no half-pixel offset).
    double roi_w = W, roi_h = H;
    if (keep_aspect) {
      const double tensor_aspect = th / tw;
      if (tensor_aspect > H / W) roi_h = W * tensor_aspect;
      else roi_w = H / tensor_aspect;
    }
    const Transform::Matrix m{roi_w / tw, 0, W / 2 - roi_w / 2, 0, roi_h / th, H / 2 - roi_h / 2, 0, 0, 1};
    return Transform(m, tensor, image);
  }
  // cv2.resize to the scaled size (half-pixel centres), then centred padding.
  int new_w = tensor.width, new_h = tensor.height;
  if (keep_aspect) {
    const double s = std::min(tw / W, th / H);
    new_w = std::clamp(static_cast<int>(std::floor(W * s + 0.5)), 1, tensor.width);
    new_h = std::clamp(static_cast<int>(std::floor(H * s + 0.5)), 1, tensor.height);
  }
  const int pad_left = (tensor.width - new_w) / 2, pad_top = (tensor.height - new_h) / 2;
  const double sx = W / new_w, sy = H / new_h;
  const Transform::Matrix m{sx, 0, (0.5 - pad_left) * sx - 0.5, 0, sy, (0.5 - pad_top) * sy - 0.5, 0, 0, 1};
  return Transform(m, tensor, image, PixelRect{pad_left, pad_top, pad_left + new_w, pad_top + new_h},
                   /*half_pixel=*/true);
}

Transform roi_transform(const Rect& rect, Size image, Size tensor, bool keep_aspect) {
  const double tw = tensor.width, th = tensor.height;
  double w = rect.width, h = rect.height;
  if (keep_aspect) {
    const double tensor_aspect = th / tw;
    if (tensor_aspect > h / w) h = w * tensor_aspect;
    else w = h / tensor_aspect;
  }
  const double c = std::cos(rect.rotation), s = std::sin(rect.rotation);
  // x = cx + c*(j/tw - 0.5)*w - s*(i/th - 0.5)*h, y = cy + s*(j/tw - 0.5)*w + c*(i/th - 0.5)*h
  const Transform::Matrix m{c * w / tw, -s * h / th, rect.x_center - c * w / 2 + s * h / 2,
                            s * w / tw, c * h / th,  rect.y_center - s * w / 2 - c * h / 2,
                            0,          0,           1};
  return Transform(m, tensor, image);
}

namespace {

// Tensor pixels outside the content: constant fill, or a copy of the nearest content pixel.
template <class T>
void fill_outside_content(T* out, const TensorSpec& spec, const PixelRect& c, T fill) {
  const int W = spec.size.width, H = spec.size.height;
  const bool nhwc = spec.layout == Layout::nhwc;
  const int64_t plane = int64_t{W} * H;
  // Fills tensor pixels [p0, p1) (row-major pixel indices) in every channel: whole padding
  // rows in one call.
  auto fill_pixels = [&](int64_t p0, int64_t p1) {
    if (p1 <= p0) return;
    if (fill == T{0}) {  // the common case; memset is vectorised on every target
      if (nhwc) {
        std::memset(out + p0 * 3, 0, sizeof(T) * 3 * (p1 - p0));
      } else {
        for (int ch = 0; ch < 3; ++ch) std::memset(out + ch * plane + p0, 0, sizeof(T) * (p1 - p0));
      }
      return;
    }
    if (nhwc) {
      std::fill(out + p0 * 3, out + p1 * 3, fill);
    } else {
      for (int ch = 0; ch < 3; ++ch) std::fill(out + ch * plane + p0, out + ch * plane + p1, fill);
    }
  };
  auto at = [&](int ch, int i, int j) -> T& {
    return nhwc ? out[(int64_t{i} * W + j) * 3 + ch] : out[ch * plane + int64_t{i} * W + j];
  };
  const bool replicate = spec.border == Border::replicate;
  if (!replicate) {
    const int64_t row = W;
    if (c.x1 <= c.x0 || c.y1 <= c.y0) return fill_pixels(0, H * row);
    fill_pixels(0, c.y0 * row + c.x0);  // rows above, and the left of the first content row
    for (int i = c.y0; i < c.y1; ++i) fill_pixels(i * row + c.x1, (i + 1) * row + (i + 1 < c.y1 ? c.x0 : 0));
    fill_pixels(int64_t{c.y1} * row, H * row);  // rows below
    return;
  }
  for (int i = 0; i < H; ++i) {
    const bool row_inside = i >= c.y0 && i < c.y1;
    const int src_i = std::clamp(i, c.y0, c.y1 - 1);
    for (int j = 0; j < W; ++j) {
      if (row_inside && j >= c.x0 && j < c.x1) {
        j = c.x1 - 1;  // skip the sampled span
        continue;
      }
      const int src_j = std::clamp(j, c.x0, c.x1 - 1);
      for (int ch = 0; ch < 3; ++ch) at(ch, i, j) = at(ch, src_i, src_j);
    }
  }
}

}  // namespace

void sample_into_tensor(const ImageView& image, const Transform& transform, const TensorSpec& spec,
                        Border tap_border, void* out, int threads) {
  if (!transform.is_affine()) throw std::invalid_argument("transform must be affine");
  const Transform::Matrix& m = transform.matrix();
  kernels::SampleImageJob job{};
  job.src = image;
  job.map = {{float(m[0]), float(m[1]), float(m[2]), float(m[3]), float(m[4]), float(m[5])}};
  const PixelRect c = transform.content();
  job.content = c;
  job.border = tap_border;
  job.width = spec.size.width;
  job.height = spec.size.height;
  job.layout = spec.layout;
  job.type = spec.type;
  job.scale = (spec.range_hi - spec.range_lo) / 255.0f;
  job.offset = spec.range_lo;
  for (int ch = 0; ch < 3; ++ch) job.channel_shift[ch] = 8 * (spec.bgr_input ? 2 - ch : ch);
  job.out = out;
  // Rows of the content in chunks; each chunk is a job over its rows with the worker's own
  // column taps (recomputed per chunk: a few hundred columns).
  thread_local std::array<std::vector<int32_t>, parallel::kMaxWorkers> caller_taps;
  auto& column_taps = caller_taps;  // the caller's, also for the helpers running the lambda
  const size_t columns = static_cast<size_t>(std::max(c.x1 - c.x0, 0)) + 8;
  const int rows = std::max(c.y1 - c.y0, 0);
  const parallel::RowSplit split = parallel::split_rows(rows, int64_t{c.x1 - c.x0} * kPixelsPerSample, threads);
  for (int k = 0; k < split.workers; ++k)
    if (column_taps[k].size() < 6 * columns) column_taps[k].resize(6 * columns);
  const kernels::KernelTable& table = kernels::active_table();
  auto run_rows = [&](int worker, int64_t begin, int64_t end) {
    kernels::SampleImageJob part = job;
    part.content.y0 = c.y0 + static_cast<int>(begin);
    part.content.y1 = c.y0 + static_cast<int>(end);
    int32_t* taps = column_taps[worker].data();
    part.column_offset = taps;
    part.column_weights = taps + columns;
    part.column_weights_x4 = taps + 2 * columns;
    table.sample_image(part);
  };
  parallel::for_chunks(rows, split.chunk, split.workers, run_rows);

  const bool covers_all = c.x0 == 0 && c.y0 == 0 && c.x1 == spec.size.width && c.y1 == spec.size.height;
  if (covers_all) return;
  if (spec.type == ElementType::float32) fill_outside_content(static_cast<float*>(out), spec, c, spec.range_lo);
  else fill_outside_content(static_cast<uint8_t*>(out), spec, c, uint8_t{0});
}

}  // namespace edgevision
