// letterbox, warp_roi, resize_mask, composite: argument checks, output allocation, and the
// kernel call with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>

#include "arrays.hpp"
#include "detection_args.hpp"
#include "edgevision/composite.hpp"
#include "edgevision/image_to_tensor.hpp"
#include "edgevision/helper_threads.hpp"
#include "edgevision/resize_mask.hpp"

namespace edgevision::bindings {

namespace {

// A real number (int, float, numpy scalar); strings and other objects raise TypeError(message()).
// The message is built only on failure (a repr costs more than the check).
template <class Message>
double real_number(const py::handle& obj, const Message& message) {
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj) || !PyNumber_Check(obj.ptr()))
    throw py::type_error(message());
  try {
    return py::float_(py::reinterpret_borrow<py::object>(obj)).cast<double>();
  } catch (const py::error_already_set&) {
    throw py::type_error(message());
  }
}

TensorSpec tensor_spec(const py::handle& size, const py::handle& value_range, const py::handle& layout,
                       const py::handle& border, const py::handle& dtype, const py::handle& channel_order) {
  TensorSpec spec;
  spec.size = parse_size(size, "size");
  spec.layout = parse_layout(layout);
  spec.border = parse_border(border);
  spec.type = parse_dtype(dtype);
  spec.bgr_input = parse_channel_order(channel_order);
  const auto bad = [&] {
    return "value_range must be (low, high): two finite numbers with low != high, got " +
           py::repr(value_range).cast<std::string>();
  };
  if (!py::isinstance<py::sequence>(value_range) || py::isinstance<py::str>(value_range) || py::len(value_range) != 2)
    throw py::type_error(bad());
  const py::sequence r = py::reinterpret_borrow<py::sequence>(value_range);
  const double lo = real_number(r[0], bad), hi = real_number(r[1], bad);
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo == hi) throw py::value_error(bad());
  spec.range_lo = static_cast<float>(lo);
  spec.range_hi = static_cast<float>(hi);
  return spec;
}

py::array tensor_output(const TensorSpec& spec, const py::object& out) {
  const py::ssize_t h = spec.size.height, w = spec.size.width;
  const std::vector<py::ssize_t> shape =
      spec.layout == Layout::nhwc ? std::vector<py::ssize_t>{1, h, w, 3} : std::vector<py::ssize_t>{1, 3, h, w};
  return output_array(out, shape, spec.type == ElementType::uint8);
}

py::tuple letterbox_py(const py::handle& image, const py::handle& size, const py::handle& keep_aspect_obj,
                       const py::handle& value_range, const py::handle& layout, const py::handle& border,
                       const py::handle& sampling, const py::handle& dtype, const py::handle& channel_order,
                       const py::object& out, const py::handle& threads_obj) {
  const ImageView view = image_view(image, "image");
  const int threads = parse_threads(threads_obj);
  const TensorSpec spec = tensor_spec(size, value_range, layout, border, dtype, channel_order);
  const Sampling mode = parse_sampling(sampling);
  const bool keep_aspect = parse_flag(keep_aspect_obj, "keep_aspect");
  py::array tensor = tensor_output(spec, out);
  void* data = tensor.mutable_data();
  std::optional<Transform> transform;
  {
    py::gil_scoped_release release;
    transform.emplace(letterbox(view, spec, keep_aspect, mode, data, threads));
  }
  return py::make_tuple(tensor, *transform);
}

py::tuple warp_roi_py(const py::handle& image, const py::handle& rect_obj, const py::handle& size,
                      const py::handle& keep_aspect_obj, const py::handle& value_range, const py::handle& layout,
                      const py::handle& border, const py::handle& dtype, const py::handle& channel_order,
                      const py::object& out, const py::handle& threads_obj) {
  const ImageView view = image_view(image, "image");
  const int threads = parse_threads(threads_obj);
  if (!py::isinstance<Rect>(rect_obj))
    throw py::type_error("rect must be an edgevision.Rect, got " +
                         py::str(py::type::of(rect_obj).attr("__name__")).cast<std::string>());
  const Rect rect = rect_obj.cast<Rect>();
  if (!(rect.width > 0) || !(rect.height > 0))
    throw py::value_error("rect width and height must be positive, got " + py::repr(rect_obj).cast<std::string>());
  const TensorSpec spec = tensor_spec(size, value_range, layout, border, dtype, channel_order);
  const bool keep_aspect = parse_flag(keep_aspect_obj, "keep_aspect");
  py::array tensor = tensor_output(spec, out);
  void* data = tensor.mutable_data();
  std::optional<Transform> transform;
  {
    py::gil_scoped_release release;
    transform.emplace(warp_roi(view, rect, spec, keep_aspect, data, threads));
  }
  return py::make_tuple(tensor, *transform);
}

float parse_blur_sigma(const py::handle& obj) {
  const double sigma =
      real_number(obj, [&] { return "blur_sigma must be a number, got " + py::repr(obj).cast<std::string>(); });
  if (!std::isfinite(sigma) || sigma <= 0 || sigma > 1000)
    throw py::value_error("blur_sigma must be a positive number of pixels (at most 1000), got " + std::to_string(sigma));
  return static_cast<float>(sigma);
}

// None, or a finite number.
std::optional<float> optional_threshold(const py::object& threshold) {
  if (threshold.is_none()) return std::nullopt;
  const double t =
      real_number(threshold, [&] { return "threshold must be a number or None, got " + py::repr(threshold).cast<std::string>(); });
  if (!std::isfinite(t)) throw py::value_error("threshold must be finite, got " + std::to_string(t));
  return static_cast<float>(t);
}

py::array resize_mask_py(const py::handle& mask, const py::handle& size, const py::object& transform,
                         const py::object& threshold, const py::handle& border, const py::object& out,
                         const py::handle& threads_obj) {
  const PlaneView<float> view = plane_view<float>(mask, "mask");
  const int threads = parse_threads(threads_obj);
  MaskResize options;
  options.size = parse_size(size, "size");
  options.border = parse_border(border);
  const std::optional<Transform> tf = optional_transform(transform);
  if (tf) options.transform = &*tf;
  options.threshold = optional_threshold(threshold);
  py::array result = output_array(out, {options.size.height, options.size.width}, options.threshold.has_value());
  void* data = result.mutable_data();
  {
    py::gil_scoped_release release;
    resize_mask(view, options, data, threads);
  }
  return result;
}

// A frame's background blur started ahead (BlurredFrame), with the frame it reads kept alive.
struct BlurredBackground {
  py::object image;    // declared first: destroyed after `frame` has finished reading it
  BlurredFrame frame;
  std::mutex mutex;    // one start or composite at a time
};

py::object blurred_background_py(const py::handle& image, const py::handle& blur_sigma_obj,
                                 const py::handle& threads_obj, const py::object& out) {
  const ImageView view = image_view(image, "image");
  const float sigma = parse_blur_sigma(blur_sigma_obj);
  const int threads = parse_threads(threads_obj);
  py::object result = out;
  if (out.is_none()) {
    result = py::cast(new BlurredBackground, py::return_value_policy::take_ownership);
  } else if (!py::isinstance<BlurredBackground>(out)) {
    throw py::type_error("out must be a BlurredBackground to reuse, got " +
                         py::str(py::type::of(out).attr("__name__")).cast<std::string>());
  }
  BlurredBackground& bg = result.cast<BlurredBackground&>();
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(bg.mutex);
    bg.frame.start(view, sigma, threads);  // finishes the previous frame first
  }
  bg.image = py::reinterpret_borrow<py::object>(image);  // the previous frame is no longer read
  return result;
}

Background parse_background(const py::handle& obj, const ImageView& image) {
  Background bg;
  if (py::isinstance<BlurredBackground>(obj)) {
    BlurredBackground& blurred = obj.cast<BlurredBackground&>();
    const BlurredFrame& frame = blurred.frame;
    if (!frame.started()) throw py::value_error("background: this BlurredBackground has no frame yet");
    if (frame.width() != image.width || frame.height() != image.height || frame.channels() != image.channels)
      throw py::value_error("background: a BlurredBackground of " + std::to_string(frame.height()) + " x " +
                            std::to_string(frame.width()) + " x " + std::to_string(frame.channels()) +
                            " does not fit an image of " + std::to_string(image.height) + " x " +
                            std::to_string(image.width) + " x " + std::to_string(image.channels));
    bg.kind = Background::Kind::blurred;
    bg.blurred = &blurred.frame;
    return bg;
  }
  const std::string expected =
      "background must be a colour (one number 0-255 per channel), an image of the frame's size, or 'blur'";
  if (py::isinstance<py::str>(obj)) {
    if (obj.cast<std::string>() != "blur") throw py::value_error(expected + ", got " + py::repr(obj).cast<std::string>());
    bg.kind = Background::Kind::blur;
    return bg;
  }
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() == 3) {
    bg.kind = Background::Kind::image;
    bg.image = image_view(obj, "background");
    if (bg.image.width != image.width || bg.image.height != image.height)
      throw py::value_error("background image must be " + std::to_string(image.height) + " x " +
                            std::to_string(image.width) + " like image, got " +
                            describe_shape(py::reinterpret_borrow<py::array>(obj)));
    return bg;
  }
  if (!py::isinstance<py::sequence>(obj) && !py::isinstance<py::array>(obj))
    throw py::type_error(expected + ", got " + py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
  const size_t n = py::len(seq);
  if (n != 3 && n != static_cast<size_t>(image.channels))
    throw py::value_error(expected + ", got " + std::to_string(n) + " values");
  bg.kind = Background::Kind::color;
  for (size_t k = 0; k < n; ++k) {
    const double v = real_number(seq[k], [&] { return expected + ", got " + py::repr(obj).cast<std::string>(); });
    if (!(v >= 0 && v <= 255)) throw py::value_error(expected + ", got " + py::repr(obj).cast<std::string>());
    bg.color[k] = static_cast<float>(v);
  }
  return bg;
}

py::array composite_py(const py::handle& image, const py::handle& mask, const py::handle& background,
                       const py::handle& blur_sigma_obj, const py::object& out, const py::object& transform,
                       const py::object& threshold, const py::handle& border, const py::handle& threads_obj) {
  const ImageView view = image_view(image, "image");
  const int threads = parse_threads(threads_obj);
  CompositeMask m;
  const py::array mask_array = require_ndarray(mask, "mask");
  const std::optional<Transform> tf = optional_transform(transform);
  m.transform = tf ? &*tf : nullptr;
  m.threshold = optional_threshold(threshold);
  m.border = parse_border(border);
  const std::string frame_size = std::to_string(view.height) + " x " + std::to_string(view.width);
  if (mask_array.dtype().is(py::dtype::of<uint8_t>())) {
    m.binary = plane_view<uint8_t>(mask, "mask");
    if (m.binary.width != view.width || m.binary.height != view.height)
      throw py::value_error("a uint8 mask must be " + frame_size + " like image, got shape " +
                            describe_shape(mask_array));
    if (tf) throw py::value_error("transform applies to a float32 mask to upsample; the uint8 mask is frame-sized");
  } else if (mask_array.dtype().is(py::dtype::of<float>())) {
    m.weights = plane_view<float>(mask, "mask");  // any size: upsampled to the frame
  } else {
    throw py::type_error("mask must be a float32 or uint8 array, got dtype " + dtype_name(mask_array));
  }
  Background bg = parse_background(background, view);
  bg.blur_sigma = parse_blur_sigma(blur_sigma_obj);
  py::array result = output_array(out, {view.height, view.width, view.channels}, true);
  uint8_t* data = static_cast<uint8_t*>(result.mutable_data());
  BlurredBackground* blurred = py::isinstance<BlurredBackground>(background) ? &background.cast<BlurredBackground&>()
                                                                            : nullptr;
  {
    py::gil_scoped_release release;
    std::unique_lock<std::mutex> lock;
    if (blurred != nullptr) lock = std::unique_lock<std::mutex>(blurred->mutex);
    composite(view, m, bg, data, threads);
  }
  return result;
}

// A duration in milliseconds, at most a minute.
std::chrono::microseconds milliseconds_arg(const py::handle& obj, const char* name) {
  return std::chrono::microseconds(std::llround(number_in(obj, name, 0.0, 60000.0) * 1000));
}

bool expect_parallel_work_py(const py::handle& after_ms, const py::handle& window_ms, const py::handle& wake_parked) {
  const auto after = milliseconds_arg(after_ms, "after_ms"), window = milliseconds_arg(window_ms, "window_ms");
  const bool wake = parse_flag(wake_parked, "wake_parked");
  py::gil_scoped_release release;
  return expect_parallel_work(after, window, wake);
}

}  // namespace

void bind_kernels(py::module_& m) {
  m.def("letterbox", &letterbox_py);
  m.def("warp_roi", &warp_roi_py);
  m.def("resize_mask", &resize_mask_py);
  m.def("composite", &composite_py);
  py::class_<BlurredBackground>(m, "BlurredBackground", R"doc(
A frame's background blur, computed on a helper thread while the caller goes on (see
``edgevision.kernels.blurred_background``); pass it as ``composite``'s background.
)doc");
  m.def("blurred_background", &blurred_background_py);
  m.def("expect_parallel_work", &expect_parallel_work_py);
}

}  // namespace edgevision::bindings
