#include "edgevision/anchors.hpp"

#include <cmath>

namespace edgevision {

namespace {

// float/double mix as in MediaPipe, so non-fixed anchor sizes agree to the last bit.
float layer_scale(float min_scale, float max_scale, int index, int count) {
  if (count == 1) return (min_scale + max_scale) * 0.5f;
  return static_cast<float>(min_scale + (max_scale - min_scale) * 1.0 * index / (count - 1.0f));
}

// Widths and heights of the anchors of one cell for the stride group starting at `first`;
// returns one past the group's last layer.
int group_anchor_sizes(const AnchorOptions& o, int first, std::vector<float>* widths, std::vector<float>* heights) {
  const int layers = static_cast<int>(o.strides.size());
  std::vector<float> ratios, scales;
  int layer = first;
  for (; layer < layers && o.strides[layer] == o.strides[first]; ++layer) {
    const float scale = layer_scale(o.min_scale, o.max_scale, layer, layers);
    if (layer == 0 && o.reduce_boxes_in_lowest_layer) {
      ratios.insert(ratios.end(), {1.0f, 2.0f, 0.5f});
      scales.insert(scales.end(), {0.1f, scale, scale});
      continue;
    }
    for (float ratio : o.aspect_ratios) {
      ratios.push_back(ratio);
      scales.push_back(scale);
    }
    if (o.interpolated_scale_aspect_ratio > 0.0f) {
      const float next = layer == layers - 1 ? 1.0f : layer_scale(o.min_scale, o.max_scale, layer + 1, layers);
      scales.push_back(std::sqrt(scale * next));
      ratios.push_back(o.interpolated_scale_aspect_ratio);
    }
  }
  if (widths != nullptr) {
    widths->clear();
    heights->clear();
    for (size_t k = 0; k < ratios.size(); ++k) {
      const float root = std::sqrt(ratios[k]);
      heights->push_back(scales[k] / root);
      widths->push_back(scales[k] * root);
    }
  } else {
    *heights = std::vector<float>(ratios.size());
  }
  return layer;
}

int grid_side(int input, int stride) { return static_cast<int>(std::ceil(1.0f * input / stride)); }

}  // namespace

int64_t anchor_count(const AnchorOptions& o) {
  int64_t total = 0;
  std::vector<float> per_cell;
  for (int first = 0; first < static_cast<int>(o.strides.size());) {
    const int next = group_anchor_sizes(o, first, nullptr, &per_cell);
    const int stride = o.strides[first];
    total += int64_t{grid_side(o.input_size.height, stride)} * grid_side(o.input_size.width, stride) *
             static_cast<int64_t>(per_cell.size());
    first = next;
  }
  return total;
}

void ssd_anchors(const AnchorOptions& o, float* out) {
  std::vector<float> widths, heights;
  for (int first = 0; first < static_cast<int>(o.strides.size());) {
    const int next = group_anchor_sizes(o, first, &widths, &heights);
    const int stride = o.strides[first];
    const int rows = grid_side(o.input_size.height, stride), cols = grid_side(o.input_size.width, stride);
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        const float cx = (x + o.offset_x) * 1.0f / cols;
        const float cy = (y + o.offset_y) * 1.0f / rows;
        for (size_t k = 0; k < widths.size(); ++k) {
          *out++ = cx;
          *out++ = cy;
          *out++ = o.fixed_anchor_size ? 1.0f : widths[k];
          *out++ = o.fixed_anchor_size ? 1.0f : heights[k];
        }
      }
    }
    first = next;
  }
}

}  // namespace edgevision
