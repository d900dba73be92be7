// Landmark tensors to landmarks: MediaPipe's TensorsToLandmarks, RefineLandmarksFromHeatmap,
// LandmarkProjection and WorldLandmarkProjection. Landmarks are rows of
// (x, y, z, visibility, presence), as many columns as the model gives (at least x, y).
#pragma once

#include <cstdint>

#include "edgevision/geometry.hpp"
#include "edgevision/views.hpp"

namespace edgevision {

enum class Activation { none, sigmoid };

struct LandmarkDecoding {
  int num_landmarks = 0;
  int dims = 0;           // values per landmark read from the tensor (<= 5 are used)
  bool normalize = true;  // x / width, y / height, z / width / normalize_z
  Size input_size;        // the model input, for normalize
  float normalize_z = 1.0f;
  Activation visibility = Activation::sigmoid;
  Activation presence = Activation::sigmoid;
};

// `raw` holds num_landmarks * dims contiguous floats; writes num_landmarks x min(dims, 5).
void decode_landmarks(const float* raw, const LandmarkDecoding& options, float* out);

// ROI-normalised landmarks to image-normalised ones through the rect (pixels):
// x' = (cos*(x-.5) - sin*(y-.5)) * w/W + cx/W, y' likewise with h/H, z' = z * w/W.
// Other columns are copied. `out` is rows x cols, contiguous.
void project_landmarks(const MatrixView<float>& landmarks, const Rect& rect, Size image_size, float* out);

// World landmarks rotated by `rotation` about the origin in x, y; other columns copied.
void project_world_landmarks(const MatrixView<float>& landmarks, double rotation, float* out);

// A heatmap of h x w cells with one channel per landmark, any strides: (row, col, channel).
struct HeatmapView {
  const float* data = nullptr;
  int height = 0;
  int width = 0;
  int channels = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 0;
  int64_t channel_stride = 1;

  float at(int row, int col, int channel) const {
    return data[row * row_stride + col * col_stride + channel * channel_stride];
  }
};

// Moves each landmark (ROI-normalised) to the centre of mass of sigmoid(heatmap) in the
// kernel_size window around its cell, when the window's peak is >= min_confidence.
// refine_presence / refine_visibility (columns 4 / 3, which must exist) lower them to the
// window's peak, min(value, peak), whenever the window is not empty. `out` (rows x cols,
// contiguous) receives the refined landmarks.
void refine_from_heatmap(const MatrixView<float>& landmarks, const HeatmapView& heatmap, int kernel_size,
                         float min_confidence, float* out, bool refine_presence = false,
                         bool refine_visibility = false);

}  // namespace edgevision
