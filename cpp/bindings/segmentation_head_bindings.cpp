// edgevision.kernels.SegmentationHead: the weights of a segmentation decoder's full-resolution
// tail, copied once, and its call on a feature map (GIL released).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "edgevision/segmentation_head.hpp"

namespace edgevision::bindings {

namespace {

constexpr int kC = kHeadChannels;

// `obj` as float32 values (any real dtype, copied) of exactly `count` elements with one of the
// shapes in `shapes` (a message fragment).
std::vector<float> weights_of(const py::handle& obj, const char* name, py::ssize_t count, const std::string& shapes) {
  const py::array a = require_ndarray(obj, name);
  if (a.dtype().kind() != 'f')
    throw py::type_error(std::string(name) + " must be a float array, got dtype " + dtype_name(a));
  if (a.size() != count) throw py::value_error(std::string(name) + " must have shape " + shapes + ", got " + describe_shape(a));
  const auto values = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  std::vector<float> out(values.data(), values.data() + count);
  for (float v : out)
    if (!std::isfinite(v)) throw py::value_error(std::string(name) + " must be finite");
  return out;
}

// One group of residual blocks: (blocks, 3, 3, 8), (blocks, 8), (blocks, 8, 8), (blocks, 8).
struct BlockWeights {
  int count = 0;
  std::vector<float> depthwise, depthwise_bias, pointwise, pointwise_bias;

  BlockWeights() = default;
  BlockWeights(const py::handle& dw_obj, const py::handle& dw_bias, const py::handle& pw, const py::handle& pw_bias,
               const std::string& prefix) {
    const std::string dw_name = prefix + "depthwise";
    const py::array dw = require_ndarray(dw_obj, dw_name.c_str());
    if (dw.ndim() != 4 || dw.shape(1) != 3 || dw.shape(2) != 3 || dw.shape(3) != kC)
      throw py::value_error(dw_name + " must have shape (blocks, 3, 3, 8), got " + describe_shape(dw));
    count = static_cast<int>(dw.shape(0));
    if (count > kHeadMaxBlocks)
      throw py::value_error(dw_name + ": at most " + std::to_string(kHeadMaxBlocks) + " blocks, got " + std::to_string(count));
    const std::string b = std::to_string(count);
    depthwise = weights_of(dw_obj, dw_name.c_str(), count * 9 * kC, "(blocks, 3, 3, 8)");
    depthwise_bias = weights_of(dw_bias, (prefix + "depthwise_bias").c_str(), count * kC, "(" + b + ", 8)");
    pointwise = weights_of(pw, (prefix + "pointwise").c_str(), count * kC * kC, "(" + b + ", 8, 8) (out, in)");
    pointwise_bias = weights_of(pw_bias, (prefix + "pointwise_bias").c_str(), count * kC, "(" + b + ", 8)");
  }

  void into(SegmentationHeadBlock* blocks) const {
    for (int k = 0; k < count; ++k)
      blocks[k] = {depthwise.data() + k * 9 * kC, depthwise_bias.data() + k * kC, pointwise.data() + k * kC * kC,
                   pointwise_bias.data() + k * kC};
  }
};

class SegmentationHeadModel {
 public:
  SegmentationHeadModel(const py::handle& depthwise, const py::handle& depthwise_bias, const py::handle& pointwise,
                        const py::handle& pointwise_bias, const py::handle& head, const py::handle& head_bias,
                        const py::handle& input_depthwise, const py::handle& input_depthwise_bias,
                        const py::handle& input_pointwise, const py::handle& input_pointwise_bias)
      : after_(depthwise, depthwise_bias, pointwise, pointwise_bias, "") {
    const bool any = !input_depthwise.is_none() || !input_depthwise_bias.is_none() || !input_pointwise.is_none() ||
                     !input_pointwise_bias.is_none();
    if (any) {
      if (input_depthwise.is_none() || input_depthwise_bias.is_none() || input_pointwise.is_none() ||
          input_pointwise_bias.is_none())
        throw py::value_error("input_depthwise, input_depthwise_bias, input_pointwise and input_pointwise_bias go "
                              "together (the blocks before the upsample)");
      before_ = BlockWeights(input_depthwise, input_depthwise_bias, input_pointwise, input_pointwise_bias, "input_");
    }
    head_ = weights_of(head, "head", 9 * kC, "(3, 3, 8)");
    const std::vector<float> bias = weights_of(head_bias, "head_bias", 1, "(1,) or ()");
    params_.input_blocks = before_.count;
    before_.into(params_.input_block);
    params_.blocks = after_.count;
    after_.into(params_.block);
    params_.head = head_.data();
    params_.head_bias = bias[0];
  }

  py::array call(const py::handle& features_obj, const py::object& out_obj, const py::handle& threads_obj,
                 const py::handle& activation_obj) const {
    if (!py::isinstance<py::str>(activation_obj))
      throw py::type_error("activation must be 'none' or 'sigmoid', got " + py::repr(activation_obj).cast<std::string>());
    const std::string activation = activation_obj.cast<std::string>();
    if (activation != "none" && activation != "sigmoid")
      throw py::value_error("activation must be 'none' or 'sigmoid', got '" + activation + "'");
    const py::array f = require_ndarray(features_obj, "features");
    if (!f.dtype().is(py::dtype::of<float>())) throw py::type_error("features must be float32, got dtype " + dtype_name(f));
    const bool batched = f.ndim() == 4 && f.shape(0) == 1;
    if (!(f.ndim() == 3 || batched) || f.shape(f.ndim() - 1) != kC)
      throw py::value_error("features must have shape (h, w, 8) or (1, h, w, 8), got " + describe_shape(f));
    const py::ssize_t h = f.shape(f.ndim() - 3), w = f.shape(f.ndim() - 2);
    const py::ssize_t row = f.strides(f.ndim() - 3), pixel = f.strides(f.ndim() - 2), channel = f.strides(f.ndim() - 1);
    if (h < 1 || w < 1) throw py::value_error("features must not be empty, got " + describe_shape(f));
    if (channel != sizeof(float) || pixel != kC * sizeof(float) || row < w * pixel || row % sizeof(float) != 0)
      throw py::value_error("features must have contiguous pixels (rows may be strided), got strides " +
                            py::str(py::tuple(f.attr("strides"))).cast<std::string>());
    const int threads = parse_threads(threads_obj);
    py::array out = output_array(out_obj, {2 * h, 2 * w}, false);
    const float* data = static_cast<const float*>(f.data());
    float* result = static_cast<float*>(out.mutable_data());
    {
      py::gil_scoped_release release;
      segmentation_head(data, static_cast<int>(w), static_cast<int>(h), row / static_cast<py::ssize_t>(sizeof(float)),
                        params_, result, 2 * w, threads, activation == "sigmoid");
    }
    return out;
  }

  int blocks() const { return after_.count; }
  int input_blocks() const { return before_.count; }

 private:
  BlockWeights before_, after_;
  std::vector<float> head_;
  SegmentationHead params_;
};

}  // namespace

void bind_segmentation_head(py::module_& m) {
  py::class_<SegmentationHeadModel>(m, "SegmentationHead", R"doc(
The last layers of a segmentation decoder, run natively: on an 8-channel feature map, residual
blocks of depthwise 3x3 (+ bias, ReLU6) -> 1x1 (+ bias) -> add the block's input -> ReLU6 (the
``input_*`` weights, optional), a 2x upsample (bilinear, half-pixel centres, as TFLite's
RESIZE_BILINEAR with half_pixel_centers), more such blocks, then a 3x3 convolution to one
channel (+ bias): logits. Every 3x3 layer pads with zeros ("SAME"). BlazePose's landmark model ends its mask this way
(``runtime.load(..., native_heads=...)`` cuts it off the model).

``SegmentationHead(depthwise, depthwise_bias, pointwise, pointwise_bias, head, head_bias, *,
input_depthwise=None, input_depthwise_bias=None, input_pointwise=None, input_pointwise_bias=None)``:
float arrays ``(blocks, 3, 3, 8)``, ``(blocks, 8)``, ``(blocks, 8, 8)`` ([out, in]),
``(blocks, 8)``, ``(3, 3, 8)`` and one value; 0 to 4 blocks after the upsample and 0 to 4
before it (the ``input_*`` arrays, same shapes). Copied once.

``head(features, *, out=None, threads=1, activation="none")``: ``features`` ``(h, w, 8)`` or
``(1, h, w, 8)`` float32 with contiguous pixels (rows may be strided) -> ``(2h, 2w)`` float32
logits, or their sigmoid with ``activation="sigmoid"`` (within 2e-7; at least 1.7e-38), into
``out`` if given. Rows are streamed a few at a time through cache; ``threads`` shares them
with helper threads (same result). Equal to the layers to float32 rounding; every SIMD path
gives the same bits.
)doc")
      .def(py::init<const py::handle&, const py::handle&, const py::handle&, const py::handle&, const py::handle&,
                    const py::handle&, const py::handle&, const py::handle&, const py::handle&, const py::handle&>(),
           py::arg("depthwise"), py::arg("depthwise_bias"), py::arg("pointwise"), py::arg("pointwise_bias"),
           py::arg("head"), py::arg("head_bias"), py::kw_only(), py::arg("input_depthwise") = py::none(),
           py::arg("input_depthwise_bias") = py::none(), py::arg("input_pointwise") = py::none(),
           py::arg("input_pointwise_bias") = py::none())
      .def("__call__", &SegmentationHeadModel::call, py::arg("features"), py::kw_only(), py::arg("out") = py::none(),
           py::arg("threads") = 1, py::arg("activation") = "none")
      .def_property_readonly("blocks", &SegmentationHeadModel::blocks)
      .def_property_readonly("input_blocks", &SegmentationHeadModel::input_blocks);
}

}  // namespace edgevision::bindings
