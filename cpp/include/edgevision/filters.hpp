// Temporal filters with MediaPipe's semantics (util/filtering, LandmarksSmoothing,
// VisibilitySmoothing, SegmentationSmoothing calculators). Filter objects hold state and are
// not safe to share between threads without a lock; segmentation_smoothing is stateless.
//
// Precision follows MediaPipe: low-pass state in float32, one-euro arithmetic in double.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "edgevision/resize_mask.hpp"
#include "edgevision/types.hpp"
#include "edgevision/views.hpp"

namespace edgevision {

// y = alpha*x + (1 - alpha)*y_prev; the first value passes through.
class LowPassFilter {
 public:
  explicit LowPassFilter(float alpha = 1.0f) : alpha_(alpha) {}
  float apply(float value) { return apply(value, alpha_); }
  float apply(float value, float alpha);
  bool initialized() const { return initialized_; }
  float last_raw() const { return raw_; }
  float alpha() const { return alpha_; }
  void reset() { initialized_ = false; }

 private:
  float alpha_;
  bool initialized_ = false;
  float raw_ = 0.0f;
  float stored_ = 0.0f;
};

struct OneEuroOptions {
  double frequency = 30.0;  // Hz, until two timestamps give one
  double min_cutoff = 1.0;
  double beta = 0.0;
  double derivate_cutoff = 1.0;
};

// One-euro filters over a fixed number of values that share timestamps (in nanoseconds).
// A timestamp not after the last one returns the input unchanged, as MediaPipe does.
class OneEuroFilterBank {
 public:
  explicit OneEuroFilterBank(const OneEuroOptions& options) : options_(options) {}
  // Filters `count` values in place; the first call fixes the count (a different count
  // afterwards throws std::length_error). `value_scale` multiplies the derivative.
  void apply(int64_t timestamp_ns, double value_scale, double* values, int64_t count);
  void reset();
  int64_t size() const { return static_cast<int64_t>(x_.size()); }
  const OneEuroOptions& options() const { return options_; }

 private:
  double alpha(double cutoff) const;

  OneEuroOptions options_;
  double frequency_ = 0.0;
  int64_t last_time_ = -1;  // MediaPipe's "uninitialised" timestamp
  std::vector<LowPassFilter> x_, dx_;
};

struct LandmarksSmoothing {
  OneEuroOptions filter;
  bool disable_value_scaling = false;
  float min_allowed_object_scale = 1e-6f;
};

// LandmarksSmoothingCalculator with a one-euro filter per coordinate of every landmark.
class LandmarksSmoother {
 public:
  explicit LandmarksSmoother(const LandmarksSmoothing& options) : options_(options), bank_(options.filter) {}
  // landmarks: rows of (x, y[, z, ...]); x, y, z are filtered, other columns copied into
  // `out` (rows x cols, contiguous). With `image_size`, the landmarks are normalised and
  // are filtered in pixels (x*W, y*H, z*W). `object_scale` in pixels, or the mean of the
  // landmarks' bounding-box width and height. No rows: reset, as MediaPipe does when the
  // subject is lost.
  void apply(const MatrixView<float>& landmarks, int64_t timestamp_ns, std::optional<Size> image_size,
             std::optional<float> object_scale, float* out);
  void reset() { bank_.reset(); }
  int64_t num_landmarks() const { return bank_.size() / 3; }
  const LandmarksSmoothing& options() const { return options_; }

 private:
  LandmarksSmoothing options_;
  OneEuroFilterBank bank_;
  std::vector<double> values_;
};

// Low-pass filters over a fixed number of values (VisibilitySmoothingCalculator filters
// the visibility column of landmarks with one per landmark).
class LowPassFilterBank {
 public:
  explicit LowPassFilterBank(float alpha) : alpha_(alpha) {}
  // Filters in place; the first call fixes the count (std::length_error afterwards).
  void apply(float* values, int64_t count, int64_t stride = 1);
  void reset() { filters_.clear(); }
  int64_t size() const { return static_cast<int64_t>(filters_.size()); }
  float alpha() const { return alpha_; }

 private:
  float alpha_;
  std::vector<LowPassFilter> filters_;
};

// VisibilitySmoothingCalculator with low_pass_filter: the visibility column (3) of each
// landmark low-passed; other columns copied into `out` (rows x cols, contiguous).
class VisibilitySmoother {
 public:
  explicit VisibilitySmoother(float alpha) : bank_(alpha) {}
  void apply(const MatrixView<float>& landmarks, float* out);
  void reset() { bank_.reset(); }
  int64_t num_landmarks() const { return bank_.size(); }
  float alpha() const { return bank_.alpha(); }

 private:
  LowPassFilterBank bank_;
};

// SegmentationSmoothingCalculator (CPU): per pixel, with p the new value,
// x = (p - 0.5)^2, u = 1 - min(1, x*(c1 + x*(c2 + x*(c3 + x*(c4 + x*c5))))),
// out = p + (prev - p) * (u * ratio). `out` is h x w contiguous.
void segmentation_smoothing(const PlaneView<float>& previous, const PlaneView<float>& current, float ratio,
                            float* out);
// The same with `current` at model resolution: resized as resize_mask(current, resize, ...)
// resizes it, each output row smoothed while in cache (no frame-size intermediate). `previous`
// is resize.size with contiguous rows; resize.threshold must be unset. `threads` as resize_mask's.
void segmentation_smoothing(const PlaneView<float>& previous, const PlaneView<float>& current, const MaskResize& resize,
                            float ratio, float* out, int threads = 1);

}  // namespace edgevision
