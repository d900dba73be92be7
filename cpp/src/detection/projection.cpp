#include <algorithm>
#include <limits>

#include "edgevision/detections.hpp"

namespace edgevision {

namespace {

inline void map_point(const Transform::Matrix& m, double x, double y, double* X, double* Y) {
  const double w = m[6] * x + m[7] * y + m[8];
  *X = (m[0] * x + m[1] * y + m[2]) / w;
  *Y = (m[3] * x + m[4] * y + m[5]) / w;
}

}  // namespace

void project_detections(const DetectionsView& in, const Transform::Matrix& m, float* boxes, float* keypoints) {
  const int64_t n = in.size();
  const int k = in.num_keypoints();
  for (int64_t i = 0; i < n; ++i) {
    const double x0 = in.boxes(i, 0), y0 = in.boxes(i, 1), x1 = in.boxes(i, 2), y1 = in.boxes(i, 3);
    const double corners[4][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    double lo_x = std::numeric_limits<double>::infinity(), lo_y = lo_x;
    double hi_x = -lo_x, hi_y = -lo_x;
    for (const auto& c : corners) {
      double X, Y;
      map_point(m, c[0], c[1], &X, &Y);
      lo_x = std::min(lo_x, X), lo_y = std::min(lo_y, Y);
      hi_x = std::max(hi_x, X), hi_y = std::max(hi_y, Y);
    }
    float* box = boxes + 4 * i;
    box[0] = static_cast<float>(lo_x), box[1] = static_cast<float>(lo_y);
    box[2] = static_cast<float>(hi_x), box[3] = static_cast<float>(hi_y);
    for (int p = 0; p < k; ++p) {
      double X, Y;
      map_point(m, in.keypoints(i, p, 0), in.keypoints(i, p, 1), &X, &Y);
      keypoints[2 * (i * k + p)] = static_cast<float>(X);
      keypoints[2 * (i * k + p) + 1] = static_cast<float>(Y);
    }
  }
}

}  // namespace edgevision
