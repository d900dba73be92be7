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
                        const py::handle& input_pointwise, const py::handle& input_pointwise_bias,
                        const py::handle& skip, const py::handle& earlier_levels) {
    // Levels in order: the earlier ones (mappings), then the one of the positional blocks.
    if (!py::isinstance<py::list>(earlier_levels) && !py::isinstance<py::tuple>(earlier_levels))
      throw py::type_error("earlier_levels must be a list of mappings, got " +
                           py::str(py::type::of(earlier_levels).attr("__name__")).cast<std::string>());
    const py::sequence earlier = py::reinterpret_borrow<py::sequence>(earlier_levels);
    if (static_cast<int>(earlier.size()) >= kHeadMaxLevels)
      throw py::value_error("earlier_levels: at most " + std::to_string(kHeadMaxLevels - 1) + " level(s) before the last");
    for (const py::handle& level : earlier) {
      if (!py::hasattr(level, "__getitem__") || py::isinstance<py::str>(level))
        throw py::type_error("earlier_levels: each level must be a mapping with depthwise, depthwise_bias, pointwise, "
                             "pointwise_bias and skip");
      auto item = [&](const char* key) -> py::object {
        try {
          return level.attr("__getitem__")(key);
        } catch (const py::error_already_set& e) {
          if (e.matches(PyExc_KeyError)) throw py::value_error(std::string("earlier_levels: a level lacks '") + key + "'");
          throw;
        }
      };
      levels_.emplace_back(item("depthwise"), item("depthwise_bias"), item("pointwise"), item("pointwise_bias"),
                           "earlier_levels[" + std::to_string(levels_.size()) + "]: ");
      skips_.push_back(parse_flag(item("skip"), "earlier_levels[...]['skip']"));
    }
    levels_.emplace_back(depthwise, depthwise_bias, pointwise, pointwise_bias, "");
    skips_.push_back(parse_flag(skip, "skip"));
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
    params_.levels = static_cast<int>(levels_.size());
    for (int l = 0; l < params_.levels; ++l) {
      params_.level[l].skip = skips_[l];
      params_.level[l].blocks = levels_[l].count;
      levels_[l].into(params_.level[l].block);
    }
    params_.head = head_.data();
    params_.head_bias = bias[0];
  }

  py::array call(const py::handle& features_obj, const py::handle& skips_obj, const py::object& out_obj,
                 const py::handle& threads_obj, const py::handle& activation_obj) const {
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
    if (h > (1 << 20) || w > (1 << 20)) throw py::value_error("features are too large: " + describe_shape(f));
    // One skip map per level that adds one, each (h << (level + 1)) x (w << (level + 1)) x 8.
    if (!py::isinstance<py::list>(skips_obj) && !py::isinstance<py::tuple>(skips_obj))
      throw py::type_error("skips must be a list of arrays, got " +
                           py::str(py::type::of(skips_obj).attr("__name__")).cast<std::string>());
    const py::sequence given = py::reinterpret_borrow<py::sequence>(skips_obj);
    HeadSkip skips[kHeadMaxLevels];
    std::vector<py::array> keep;
    size_t next = 0;
    for (int l = 0; l < params_.levels; ++l) {
      if (!params_.level[l].skip) continue;
      const std::string name = "skips[" + std::to_string(next) + "]";
      if (next >= given.size()) throw py::value_error("skips: level " + std::to_string(l) + " adds a skip map; none given");
      const py::array a = require_ndarray(given[next++], name.c_str());
      if (!a.dtype().is(py::dtype::of<float>())) throw py::type_error(name + " must be float32, got dtype " + dtype_name(a));
      const py::ssize_t sh = h << (l + 1), sw = w << (l + 1);
      const bool batch = a.ndim() == 4 && a.shape(0) == 1;
      if (!(a.ndim() == 3 || batch) || a.shape(a.ndim() - 3) != sh || a.shape(a.ndim() - 2) != sw || a.shape(a.ndim() - 1) != kC)
        throw py::value_error(name + " must have shape (" + std::to_string(sh) + ", " + std::to_string(sw) +
                              ", 8) or (1, ...), got " + describe_shape(a));
      const py::ssize_t srow = a.strides(a.ndim() - 3);
      if (a.strides(a.ndim() - 1) != sizeof(float) || a.strides(a.ndim() - 2) != kC * sizeof(float) ||
          srow < sw * kC * static_cast<py::ssize_t>(sizeof(float)) || srow % sizeof(float) != 0)
        throw py::value_error(name + " must have contiguous pixels (rows may be strided)");
      skips[l] = {static_cast<const float*>(a.data()), srow / static_cast<py::ssize_t>(sizeof(float))};
      keep.push_back(a);
    }
    if (next != given.size())
      throw py::value_error("skips: " + std::to_string(given.size()) + " given, the head adds " + std::to_string(next));
    const int scale = 1 << params_.levels;
    py::array out = output_array(out_obj, {scale * h, scale * w}, false);
    const float* data = static_cast<const float*>(f.data());
    float* result = static_cast<float*>(out.mutable_data());
    {
      py::gil_scoped_release release;
      segmentation_head(data, static_cast<int>(w), static_cast<int>(h), row / static_cast<py::ssize_t>(sizeof(float)),
                        params_, result, scale * w, threads, activation == "sigmoid", skips);
    }
    return out;
  }

  int blocks() const { return levels_.back().count; }
  int input_blocks() const { return before_.count; }
  int levels() const { return params_.levels; }

 private:
  BlockWeights before_;
  std::vector<BlockWeights> levels_;
  std::vector<bool> skips_;
  std::vector<float> head_;
  SegmentationHead params_;
};

}  // namespace

void bind_segmentation_head(py::module_& m) {
  py::class_<SegmentationHeadModel>(m, "SegmentationHead", R"doc(
The last layers of a segmentation decoder, run natively: on an 8-channel feature map, residual
blocks of depthwise 3x3 (+ bias, ReLU6) -> 1x1 (+ bias) -> add the block's input -> ReLU6 (the
``input_*`` weights, optional), then one or two levels of a 2x upsample (bilinear, half-pixel
centres, as TFLite's RESIZE_BILINEAR with half_pixel_centers), optionally plus a skip map, and
more such blocks, then a 3x3 convolution to one channel (+ bias): logits. Every 3x3 layer pads
with zeros ("SAME"). BlazePose's landmark model ends its mask this way
(``runtime.load(..., native_heads=...)`` cuts it off the model).

``SegmentationHead(depthwise, depthwise_bias, pointwise, pointwise_bias, head, head_bias, *,
input_depthwise=None, input_depthwise_bias=None, input_pointwise=None, input_pointwise_bias=None,
skip=False, earlier_levels=())``: float arrays ``(blocks, 3, 3, 8)``, ``(blocks, 8)``,
``(blocks, 8, 8)`` ([out, in]), ``(blocks, 8)`` for the last level's 0 to 4 blocks, ``(3, 3, 8)``
and one value for the convolution; the ``input_*`` arrays (same shapes) for blocks before any
upsample; ``skip``: the last level adds a skip map; ``earlier_levels``: at most one level before
it, a mapping with ``depthwise``, ``depthwise_bias``, ``pointwise``, ``pointwise_bias`` and
``skip``. Copied once.

``head(features, *, skips=(), out=None, threads=1, activation="none")``: ``features``
``(h, w, 8)`` or ``(1, h, w, 8)`` float32 with contiguous pixels (rows may be strided), one skip
map per level that adds one (``(2h, 2w, 8)`` for the first level, ``(4h, 4w, 8)`` for a second)
-> ``(h, w) * 2**levels`` float32 logits, or their sigmoid with ``activation="sigmoid"`` (within
2e-7; at least 1.7e-38), into ``out`` if given. Rows are streamed a few at a time through cache;
``threads`` shares them with helper threads (same result). Equal to the layers to float32
rounding; every SIMD path gives the same bits.
)doc")
      .def(py::init<const py::handle&, const py::handle&, const py::handle&, const py::handle&, const py::handle&,
                    const py::handle&, const py::handle&, const py::handle&, const py::handle&, const py::handle&,
                    const py::handle&, const py::handle&>(),
           py::arg("depthwise"), py::arg("depthwise_bias"), py::arg("pointwise"), py::arg("pointwise_bias"),
           py::arg("head"), py::arg("head_bias"), py::kw_only(), py::arg("input_depthwise") = py::none(),
           py::arg("input_depthwise_bias") = py::none(), py::arg("input_pointwise") = py::none(),
           py::arg("input_pointwise_bias") = py::none(), py::arg("skip") = false,
           py::arg("earlier_levels") = py::tuple())
      .def("__call__", &SegmentationHeadModel::call, py::arg("features"), py::kw_only(), py::arg("skips") = py::tuple(),
           py::arg("out") = py::none(), py::arg("threads") = 1, py::arg("activation") = "none")
      .def_property_readonly("blocks", &SegmentationHeadModel::blocks)
      .def_property_readonly("input_blocks", &SegmentationHeadModel::input_blocks)
      .def_property_readonly("levels", &SegmentationHeadModel::levels);
}

}  // namespace edgevision::bindings
