// quantize / dequantize: argument checks, output allocation, the kernel with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <limits>
#include <string>

#include "arrays.hpp"
#include "edgevision/quantize.hpp"

namespace edgevision::bindings {

namespace {

StridedShape strided_shape(const py::array& a, const char* name) {
  if (a.ndim() > kMaxQuantizeDims)
    throw py::value_error(std::string(name) + " has " + std::to_string(a.ndim()) + " dimensions; at most " +
                          std::to_string(kMaxQuantizeDims) + " are supported");
  StridedShape s;
  s.ndim = static_cast<int>(a.ndim());
  const auto item = static_cast<py::ssize_t>(a.itemsize());
  for (int k = 0; k < s.ndim; ++k) {
    if (a.strides(k) % item)
      throw py::value_error(std::string(name) + " must have element-aligned strides; pass np.ascontiguousarray(" +
                            name + ")");
    s.shape[k] = a.shape(k);
    s.strides[k] = a.strides(k) / item;
  }
  return s;
}

QuantParams quant_params(const py::handle& scale_obj, const py::handle& zero_point_obj, int64_t qmin, int64_t qmax,
                         const char* type_name) {
  const std::string scale_msg = "scale must be a finite number > 0, got " + py::repr(scale_obj).cast<std::string>();
  if (py::isinstance<py::str>(scale_obj) || py::isinstance<py::bool_>(scale_obj) || !PyNumber_Check(scale_obj.ptr()))
    throw py::type_error(scale_msg);
  double scale = 0.0;
  try {
    scale = py::float_(py::reinterpret_borrow<py::object>(scale_obj)).cast<double>();
  } catch (const py::error_already_set&) {
    throw py::type_error(scale_msg);
  }
  const float scale32 = static_cast<float>(scale);
  if (!std::isfinite(scale32) || !(scale32 > 0.0f)) throw py::value_error(scale_msg);

  const std::string zp_msg = "zero_point must be an integer in [" + std::to_string(qmin) + ", " +
                             std::to_string(qmax) + "] for " + type_name + ", got " +
                             py::repr(zero_point_obj).cast<std::string>();
  PyObject* index = py::isinstance<py::bool_>(zero_point_obj) ? nullptr : PyNumber_Index(zero_point_obj.ptr());
  if (index == nullptr) {
    PyErr_Clear();
    throw py::type_error(zp_msg);
  }
  int overflow = 0;
  const long long zp = PyLong_AsLongLongAndOverflow(index, &overflow);
  Py_DECREF(index);
  if (overflow || zp < qmin || zp > qmax) throw py::value_error(zp_msg);
  return {scale32, static_cast<int32_t>(zp)};
}

py::array output_like(const py::object& out, const py::array& src, const py::dtype& dtype, const char* type_name) {
  std::vector<py::ssize_t> shape(src.shape(), src.shape() + src.ndim());
  if (out.is_none()) return py::array(dtype, shape);
  const py::array a = require_ndarray(out, "out");
  if (!a.dtype().is(dtype)) throw py::type_error(std::string("out must have dtype ") + type_name + ", got " + dtype_name(a));
  bool same = a.ndim() == src.ndim();
  for (py::ssize_t k = 0; same && k < a.ndim(); ++k) same = a.shape(k) == src.shape(k);
  if (!same) throw py::value_error("out must have shape " + describe_shape(src) + ", got " + describe_shape(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
  if (!a.writeable()) throw py::value_error("out must be writeable (got a read-only array)");
  return a;
}

template <class Q>
py::array quantize_as(const py::array& x, const py::handle& scale, const py::handle& zero_point, const py::object& out,
                      const char* type_name) {
  const QuantParams p = quant_params(scale, zero_point, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max(),
                                     type_name);
  const StridedShape layout = strided_shape(x, "x");
  py::array result = output_like(out, x, py::dtype::of<Q>(), type_name);
  const auto* src = static_cast<const float*>(x.data());
  auto* dst = static_cast<Q*>(result.mutable_data());
  {
    py::gil_scoped_release release;
    quantize(src, layout, dst, p);
  }
  return result;
}

py::array quantize_py(const py::handle& x_obj, const py::handle& scale, const py::handle& zero_point,
                      const py::handle& dtype, const py::object& out) {
  const py::array x = require_ndarray(x_obj, "x");
  if (!x.dtype().is(py::dtype::of<float>()))
    throw py::type_error("x must be a float32 array, got dtype " + dtype_name(x));
  if (!py::isinstance<py::str>(dtype))
    throw py::type_error("dtype must be one of 'uint8', 'int8', got " + py::repr(dtype).cast<std::string>());
  const std::string type = dtype.cast<std::string>();
  if (type == "uint8") return quantize_as<uint8_t>(x, scale, zero_point, out, "uint8");
  if (type == "int8") return quantize_as<int8_t>(x, scale, zero_point, out, "int8");
  throw py::value_error("dtype must be one of 'uint8', 'int8', got '" + type + "'");
}

template <class Q>
py::array dequantize_as(const py::array& q, const py::handle& scale, const py::handle& zero_point,
                        const py::object& out, const char* type_name) {
  const QuantParams p = quant_params(scale, zero_point, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max(),
                                     type_name);
  const StridedShape layout = strided_shape(q, "q");
  py::array result = output_like(out, q, py::dtype::of<float>(), "float32");
  const auto* src = static_cast<const Q*>(q.data());
  auto* dst = static_cast<float*>(result.mutable_data());
  {
    py::gil_scoped_release release;
    dequantize(src, layout, dst, p);
  }
  return result;
}

py::array dequantize_py(const py::handle& q_obj, const py::handle& scale, const py::handle& zero_point,
                        const py::object& out) {
  const py::array q = require_ndarray(q_obj, "q");
  if (q.dtype().is(py::dtype::of<uint8_t>())) return dequantize_as<uint8_t>(q, scale, zero_point, out, "uint8");
  if (q.dtype().is(py::dtype::of<int8_t>())) return dequantize_as<int8_t>(q, scale, zero_point, out, "int8");
  throw py::type_error("q must be a uint8 or int8 array, got dtype " + dtype_name(q));
}

}  // namespace

void bind_quantize(py::module_& m) {
  m.def("quantize", &quantize_py, py::arg("x"), py::arg("scale"), py::arg("zero_point"), py::arg("dtype"),
        py::arg("out") = py::none());
  m.def("dequantize", &dequantize_py, py::arg("q"), py::arg("scale"), py::arg("zero_point"),
        py::arg("out") = py::none());
}

}  // namespace edgevision::bindings
