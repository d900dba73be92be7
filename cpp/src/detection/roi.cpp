#include "edgevision/roi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgevision {

namespace {
constexpr double kPi = 3.14159265358979323846;

Rect scaled(double cx, double cy, double w, double h, double rotation, const RoiScaling& s) {
  if (s.shift_x != 0.0 || s.shift_y != 0.0) {
    const double c = std::cos(rotation), sn = std::sin(rotation);
    cx += w * s.shift_x * c - h * s.shift_y * sn;
    cy += w * s.shift_x * sn + h * s.shift_y * c;
  }
  if (s.square_long) w = h = std::max(w, h);
  return Rect{cx, cy, w * s.scale_x, h * s.scale_y, rotation};
}
}  // namespace

Rect transform_rect(const Rect& r, const RoiScaling& s) {
  return scaled(r.x_center, r.y_center, r.width, r.height, r.rotation, s);
}

double normalize_radians(double angle) {
  double a = angle - 2 * kPi * std::floor((angle + kPi) / (2 * kPi));
  if (a >= kPi) a -= 2 * kPi;  // rounding can land exactly on +pi
  return a;
}

double rotation_between(Point2 from, Point2 to, Size image, double target_angle) {
  const double dx = (to.x - from.x) * image.width, dy = (to.y - from.y) * image.height;
  return normalize_radians(target_angle - std::atan2(-dy, dx));
}

Rect rect_from_keypoints(Point2 center, Point2 scale_point, Size image, double target_angle, const RoiScaling& s) {
  const double dx = (scale_point.x - center.x) * image.width, dy = (scale_point.y - center.y) * image.height;
  const double side = 2.0 * std::sqrt(dx * dx + dy * dy);
  return scaled(center.x * image.width, center.y * image.height, side, side,
                rotation_between(center, scale_point, image, target_angle), s);
}

Rect rect_from_box(const std::array<double, 4>& box, Size image, const std::array<Point2, 2>* points,
                   double target_angle, const RoiScaling& s) {
  const double w = box[2] - box[0], h = box[3] - box[1];
  const double rotation = points ? rotation_between((*points)[0], (*points)[1], image, target_angle) : 0.0;
  return scaled((box[0] + w / 2) * image.width, (box[1] + h / 2) * image.height, w * image.width, h * image.height,
                rotation, s);
}

std::array<float, 4> landmarks_box(const MatrixView<float>& lm) {
  float x0 = std::numeric_limits<float>::max(), y0 = x0;
  float x1 = std::numeric_limits<float>::min(), y1 = x1;  // sic: MediaPipe's starting maxima
  for (int64_t i = 0; i < lm.rows; ++i) {
    const float x = lm(i, 0), y = lm(i, 1);
    x0 = std::min(x0, x), y0 = std::min(y0, y);
    x1 = std::max(x1, x), y1 = std::max(y1, y);
  }
  return {x0, y0, x1, y1};
}

}  // namespace edgevision
