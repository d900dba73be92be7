#include <cmath>
#include <stdexcept>

#include "edgevision/filters.hpp"

namespace edgevision {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

float LowPassFilter::apply(float value, float alpha) {
  // (1.0 - alpha) in double as in MediaPipe; the state stays float.
  const float result = initialized_ ? alpha * value + (1.0 - alpha) * stored_ : value;
  initialized_ = true;
  raw_ = value;
  stored_ = result;
  return result;
}

double OneEuroFilterBank::alpha(double cutoff) const {
  const double te = 1.0 / frequency_;
  const double tau = 1.0 / (2 * kPi * cutoff);
  return 1.0 / (1.0 + tau / te);
}

void OneEuroFilterBank::reset() {
  x_.clear();
  dx_.clear();
  last_time_ = -1;
}

void OneEuroFilterBank::apply(int64_t t, double value_scale, double* values, int64_t count) {
  if (x_.empty()) {
    x_.assign(static_cast<size_t>(count), LowPassFilter(alpha(options_.min_cutoff)));
    dx_.assign(static_cast<size_t>(count), LowPassFilter(alpha(options_.derivate_cutoff)));
    frequency_ = options_.frequency;
  } else if (count != size()) {
    throw std::length_error("filter count changed");
  }
  if (last_time_ >= t) return;  // values pass through
  // MediaPipe updates the rate only between two non-zero timestamps, so with frames stamped
  // from 0 the second sample still uses the configured frequency.
  if (last_time_ != 0 && t != 0) frequency_ = 1.0 / ((t - last_time_) * 1e-9);
  last_time_ = t;
  const float derivative_alpha = static_cast<float>(alpha(options_.derivate_cutoff));
  for (int64_t k = 0; k < count; ++k) {
    LowPassFilter& x = x_[k];
    const double value = values[k];
    const double dvalue = x.initialized() ? (value - x.last_raw()) * value_scale * frequency_ : 0.0;
    const double edvalue = dx_[k].apply(static_cast<float>(dvalue), derivative_alpha);
    const double cutoff = options_.min_cutoff + options_.beta * std::fabs(edvalue);
    values[k] = x.apply(static_cast<float>(value), static_cast<float>(alpha(cutoff)));
  }
}

void LowPassFilterBank::apply(float* values, int64_t count, int64_t stride) {
  if (filters_.empty()) filters_.assign(static_cast<size_t>(count), LowPassFilter(alpha_));
  else if (count != size()) throw std::length_error("filter count changed");
  for (int64_t k = 0; k < count; ++k) values[k * stride] = filters_[k].apply(values[k * stride]);
}

}  // namespace edgevision
