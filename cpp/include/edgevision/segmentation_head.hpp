// The last layers of a segmentation decoder, run natively instead of in the model: residual
// blocks on an 8-channel feature map (depthwise 3x3 + ReLU6 -> 1x1 -> add the block's input ->
// ReLU6), then one or two levels of a 2x upsample (bilinear, half-pixel centres), optionally
// plus a skip feature map, and more such blocks, then a 3x3 convolution to one channel (logits).
// BlazePose's landmark model ends its mask this way (mediapipe's pose_landmark_full: 64x64x8 +
// a 128x128x8 skip -> 256x256 logits); XNNPACK runs these narrow layers at memory speed, one
// full-size tensor per layer, while here they stream a few rows at a time.
#pragma once

#include <cstdint>

#include "edgevision/types.hpp"

namespace edgevision {

constexpr int kHeadChannels = 8;
constexpr int kHeadMaxBlocks = 4;
constexpr int kHeadMaxLevels = 2;

struct SegmentationHeadBlock {
  const float* depthwise = nullptr;       // [3][3][8]: dy, dx, channel (TFLite's [1, 3, 3, 8])
  const float* depthwise_bias = nullptr;  // [8]
  const float* pointwise = nullptr;       // [8 out][8 in] (TFLite's [8, 1, 1, 8])
  const float* pointwise_bias = nullptr;  // [8]
};

// One level: the 2x upsample, the skip map added if `skip`, then the blocks.
struct SegmentationHeadLevel {
  bool skip = false;
  int blocks = 0;  // 0 .. kHeadMaxBlocks
  SegmentationHeadBlock block[kHeadMaxBlocks];
};

struct SegmentationHead {
  int input_blocks = 0;  // 0 .. kHeadMaxBlocks, at the input's resolution, before any upsample
  SegmentationHeadBlock input_block[kHeadMaxBlocks];
  int levels = 1;  // 1 .. kHeadMaxLevels
  SegmentationHeadLevel level[kHeadMaxLevels];
  const float* head = nullptr;  // [3][3][8] (TFLite's [1, 3, 3, 8])
  float head_bias = 0.0f;
};

// A level's skip feature map: (H << level + 1) x (W << level + 1) x 8 float32, channels contiguous.
struct HeadSkip {
  const float* data = nullptr;
  int64_t row_stride = 0;  // floats
};

// `features`: H x W x 8 float32, channels contiguous (any row stride, in floats, >= 8 W).
// `skips`: per level (kHeadMaxLevels entries, or null when no level has a skip). `out`:
// (H << levels) x (W << levels) float32 logits, or with `sigmoid` their sigmoid (within 2e-7),
// rows `out_row_stride` floats apart. Zero padding ("SAME") at the borders of every 3x3 layer.
// `threads`: share the rows with up to threads - 1 helpers (the result is the same). Every ISA
// path gives the same bits as the scalar one.
void segmentation_head(const float* features, int width, int height, int64_t row_stride, const SegmentationHead& head,
                       float* out, int64_t out_row_stride, int threads = 1, bool sigmoid = false,
                       const HeadSkip* skips = nullptr);

}  // namespace edgevision
