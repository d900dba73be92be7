#include "arrays.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace edgevision::bindings {

namespace {
// Kernels address pixels with 32-bit offsets.
constexpr int64_t kMaxSpan = std::numeric_limits<int32_t>::max() - 16;
constexpr int kMaxSide = 1 << 15;
}  // namespace

std::string describe_shape(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t k = 0; k < a.ndim(); ++k) s += (k ? ", " : "") + std::to_string(a.shape(k));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

py::array require_ndarray(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  return py::reinterpret_borrow<py::array>(obj);
}

ImageView image_view(const py::handle& obj, const char* name) {
  const py::array a = require_ndarray(obj, name);
  const std::string n = name;
  if (!a.dtype().is(py::dtype::of<uint8_t>()))
    throw py::type_error(n + " must be a uint8 array, got dtype " + dtype_name(a));
  if (a.ndim() != 3 || (a.shape(2) != 3 && a.shape(2) != 4))
    throw py::value_error(n + " must be an H x W x 3 or H x W x 4 array, got shape " + describe_shape(a));
  if (a.shape(0) < 1 || a.shape(1) < 1) throw py::value_error(n + " is empty: shape " + describe_shape(a));
  if (a.strides(2) != 1)
    throw py::value_error(n + "'s channel axis must be contiguous (stride 1), got stride " +
                          std::to_string(a.strides(2)) + "; pass np.ascontiguousarray(" + n + ")");
  if (a.strides(0) <= 0 || a.strides(1) <= 0)
    throw py::value_error(n + " must have positive strides (no reversed views), got strides (" +
                          std::to_string(a.strides(0)) + ", " + std::to_string(a.strides(1)) +
                          "); pass np.ascontiguousarray(" + n + ")");
  ImageView v;
  v.data = static_cast<const uint8_t*>(a.data());
  v.height = static_cast<int>(a.shape(0));
  v.width = static_cast<int>(a.shape(1));
  v.channels = static_cast<int>(a.shape(2));
  v.row_stride = a.strides(0);
  v.pixel_stride = a.strides(1);
  if (a.shape(0) > kMaxSide || a.shape(1) > kMaxSide || v.span() > kMaxSpan)
    throw py::value_error(n + " is too large: shape " + describe_shape(a));
  return v;
}

template <class T>
PlaneView<T> plane_view(const py::handle& obj, const char* name) {
  const py::array a = require_ndarray(obj, name);
  const std::string n = name;
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(n + " must be a " + (sizeof(T) == 4 ? "float32" : "uint8") + " array, got dtype " +
                         dtype_name(a));
  // Model outputs come as [h,w], [1,h,w], [h,w,1], [1,h,w,1] or [1,1,h,w].
  const auto dim = [&](int k) { return a.shape(k); };
  int axes[2] = {-1, -1};
  if (a.ndim() == 2) axes[0] = 0, axes[1] = 1;
  else if (a.ndim() == 3 && dim(0) == 1) axes[0] = 1, axes[1] = 2;
  else if (a.ndim() == 3 && dim(2) == 1) axes[0] = 0, axes[1] = 1;
  else if (a.ndim() == 4 && dim(0) == 1 && dim(3) == 1) axes[0] = 1, axes[1] = 2;
  else if (a.ndim() == 4 && dim(0) == 1 && dim(1) == 1) axes[0] = 2, axes[1] = 3;
  if (axes[0] < 0 || a.size() == 0)
    throw py::value_error(n + " must be an h x w array (or [1,h,w], [h,w,1], [1,h,w,1], [1,1,h,w]), got shape " +
                          describe_shape(a));
  const py::ssize_t rs = a.strides(axes[0]), cs = a.strides(axes[1]);
  if (rs <= 0 || cs <= 0 || rs % sizeof(T) || cs % sizeof(T))
    throw py::value_error(n + " must have positive, element-aligned strides; pass np.ascontiguousarray(" + n + ")");
  PlaneView<T> v;
  v.data = static_cast<const T*>(a.data());
  v.height = static_cast<int>(a.shape(axes[0]));
  v.width = static_cast<int>(a.shape(axes[1]));
  v.row_stride = rs / static_cast<py::ssize_t>(sizeof(T));
  v.col_stride = cs / static_cast<py::ssize_t>(sizeof(T));
  if (v.height > kMaxSide || v.width > kMaxSide || (v.height - 1) * v.row_stride + v.width * v.col_stride > kMaxSpan)
    throw py::value_error(n + " is too large: shape " + describe_shape(a));
  return v;
}

template PlaneView<float> plane_view<float>(const py::handle&, const char*);
template PlaneView<uint8_t> plane_view<uint8_t>(const py::handle&, const char*);

Size parse_size(const py::handle& obj, const char* name) {
  const std::string n = name;
  const std::string expected = n + " must be (width, height) with positive integers, got ";
  if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj) || py::len(obj) != 2)
    throw py::type_error(expected + py::repr(obj).cast<std::string>());
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
  int values[2];
  for (int k = 0; k < 2; ++k) {
    const py::object item = seq[k];
    // Integers and numpy integers (via __index__); not bools, not floats.
    PyObject* index = py::isinstance<py::bool_>(item) ? nullptr : PyNumber_Index(item.ptr());
    if (index == nullptr) {
      PyErr_Clear();
      throw py::type_error(expected + py::repr(obj).cast<std::string>());
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (overflow > 0) throw py::value_error(n + " is too large: " + py::repr(obj).cast<std::string>());
    if (overflow < 0 || v < 1) throw py::value_error(expected + py::repr(obj).cast<std::string>());
    if (v > kMaxSide) throw py::value_error(n + " is too large: " + py::repr(obj).cast<std::string>());
    values[k] = static_cast<int>(v);
  }
  return {values[0], values[1]};
}

namespace {
std::string option_string(const py::handle& obj, const char* name, const char* choices) {
  if (!py::isinstance<py::str>(obj))
    throw py::type_error(std::string(name) + " must be one of " + choices + ", got " + py::repr(obj).cast<std::string>());
  return obj.cast<std::string>();
}
[[noreturn]] void bad_choice(const char* name, const std::string& got, const char* choices) {
  throw py::value_error(std::string(name) + " must be one of " + choices + ", got '" + got + "'");
}
}  // namespace

bool parse_flag(const py::handle& obj, const char* name) {
  if (py::isinstance<py::bool_>(obj)) return obj.ptr() == Py_True;
  if (!py::isinstance(obj, py::module_::import("numpy").attr("bool_")))
    throw py::type_error(std::string(name) + " must be True or False, got " + py::repr(obj).cast<std::string>());
  return obj.cast<bool>();
}

int parse_threads(const py::handle& obj) {
  // Messages built only on failure: the repr costs more than the whole check.
  const auto expected = [&] { return "threads must be a positive int, got " + py::repr(obj).cast<std::string>(); };
  if (py::isinstance<py::bool_>(obj) || !py::isinstance<py::int_>(obj)) throw py::type_error(expected());
  const long long v = obj.cast<long long>();
  if (v < 1) throw py::value_error(expected());
  return static_cast<int>(std::min<long long>(v, 64));
}

// None, or an invertible affine edgevision.Transform.
std::optional<Transform> optional_transform(const py::object& transform) {
  if (transform.is_none()) return std::nullopt;
  if (!py::isinstance<Transform>(transform))
    throw py::type_error("transform must be an edgevision.Transform or None, got " +
                         py::str(py::type::of(transform).attr("__name__")).cast<std::string>());
  Transform tf = transform.cast<Transform>();
  if (!tf.is_affine()) throw py::value_error("transform must be affine (last matrix row 0, 0, 1)");
  try {
    tf.inverse();
  } catch (const std::domain_error&) {
    throw py::value_error("transform must be invertible");
  }
  return tf;
}

Border parse_border(const py::handle& obj) {
  const std::string s = option_string(obj, "border", "'zero', 'replicate'");
  if (s == "zero") return Border::zero;
  if (s == "replicate") return Border::replicate;
  bad_choice("border", s, "'zero', 'replicate'");
}

Layout parse_layout(const py::handle& obj) {
  const std::string s = option_string(obj, "layout", "'nhwc', 'nchw'");
  if (s == "nhwc") return Layout::nhwc;
  if (s == "nchw") return Layout::nchw;
  bad_choice("layout", s, "'nhwc', 'nchw'");
}

ElementType parse_dtype(const py::handle& obj) {
  const std::string s = option_string(obj, "dtype", "'float32', 'uint8'");
  if (s == "float32") return ElementType::float32;
  if (s == "uint8") return ElementType::uint8;
  bad_choice("dtype", s, "'float32', 'uint8'");
}

Sampling parse_sampling(const py::handle& obj) {
  const std::string s = option_string(obj, "sampling", "'opencv', 'mediapipe'");
  if (s == "opencv") return Sampling::opencv;
  if (s == "mediapipe") return Sampling::mediapipe;
  bad_choice("sampling", s, "'opencv', 'mediapipe'");
}

bool parse_channel_order(const py::handle& obj) {
  const std::string s = option_string(obj, "channel_order", "'rgb', 'bgr'");
  if (s == "rgb") return false;
  if (s == "bgr") return true;
  bad_choice("channel_order", s, "'rgb', 'bgr'");
}

py::array output_array(const py::object& out, const std::vector<py::ssize_t>& shape, bool uint8, const char* name) {
  const py::dtype dtype = uint8 ? py::dtype::of<uint8_t>() : py::dtype::of<float>();
  if (out.is_none()) return py::array(dtype, shape);
  const py::array a = require_ndarray(out, name);
  const std::string arg(name);
  std::string want = "(";
  for (size_t k = 0; k < shape.size(); ++k) want += (k ? ", " : "") + std::to_string(shape[k]);
  want += ")";
  if (!a.dtype().is(dtype))
    throw py::type_error(arg + " must have dtype " + std::string(uint8 ? "uint8" : "float32") + ", got " + dtype_name(a));
  bool same_shape = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t k = 0; same_shape && k < shape.size(); ++k) same_shape = a.shape(k) == shape[k];
  if (!same_shape) throw py::value_error(arg + " must have shape " + want + ", got " + describe_shape(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error(arg + " must be C-contiguous");
  if (!a.writeable()) throw py::value_error(arg + " must be writeable (got a read-only array)");
  return a;
}

}  // namespace edgevision::bindings
