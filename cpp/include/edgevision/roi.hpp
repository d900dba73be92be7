// Regions of interest for a landmark model, from a detection or from the previous frame's
// landmarks: MediaPipe's AlignmentPointsRects / DetectionsToRects followed by
// RectTransformation. Inputs are normalised to the image; the Rect is in pixels
// (normalised * (W, H)), the convention warp_roi reads.
#pragma once

#include <array>

#include "edgevision/geometry.hpp"
#include "edgevision/views.hpp"

namespace edgevision {

struct Point2 {
  double x = 0.0;
  double y = 0.0;
};

// a - 2*pi*floor((a + pi) / (2*pi)), in [-pi, pi).
double normalize_radians(double angle);

// Rotation that brings the vector from -> to (normalised points, measured in pixels) onto
// `target_angle` (radians; pi/2 for "points up"), normalised.
double rotation_between(Point2 from, Point2 to, Size image_size, double target_angle);

// MediaPipe's RectTransformation: the centre moves by (shift_x * width, shift_y * height)
// along the rect's own (rotated) axes, then the size is squared (square_long) and scaled.
// The shift uses the size before squaring and scaling.
struct RoiScaling {
  double scale_x = 1.0;
  double scale_y = 1.0;
  bool square_long = true;  // grow the shorter side (in pixels) to the longer first
  double shift_x = 0.0;
  double shift_y = 0.0;
};

Rect transform_rect(const Rect& rect, const RoiScaling& scaling);

// Centre `center`, a square of side 2*|scale_point - center| pixels, rotated so that
// center -> scale_point points at target_angle; then transformed (shifted, scaled).
Rect rect_from_keypoints(Point2 center, Point2 scale_point, Size image_size, double target_angle,
                         const RoiScaling& scaling);

// The box (xmin, ymin, xmax, ymax) as a rect, rotated by rotation_between(points) when
// `rotation_points` is given (else 0); then transformed (shifted, scaled).
Rect rect_from_box(const std::array<double, 4>& box, Size image_size, const std::array<Point2, 2>* rotation_points,
                   double target_angle, const RoiScaling& scaling);

// Bounds (xmin, ymin, xmax, ymax) of the landmarks' x, y columns, as MediaPipe's
// LandmarksToDetection computes them: the maxima start at FLT_MIN (+1.17e-38), not at the
// lowest float, so all-negative coordinates give that tiny positive maximum.
std::array<float, 4> landmarks_box(const MatrixView<float>& landmarks);

}  // namespace edgevision
