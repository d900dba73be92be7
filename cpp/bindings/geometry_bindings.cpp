// Rect and Transform as Python classes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <sstream>

#include "arrays.hpp"
#include "edgevision/geometry.hpp"

namespace edgevision::bindings {

namespace {

Rect make_rect(double x_center, double y_center, double width, double height, double rotation) {
  const double values[] = {x_center, y_center, width, height, rotation};
  const char* names[] = {"x_center", "y_center", "width", "height", "rotation"};
  for (int k = 0; k < 5; ++k)
    if (!std::isfinite(values[k]))
      throw py::value_error(std::string("Rect ") + names[k] + " must be finite, got " + std::to_string(values[k]));
  return Rect{x_center, y_center, width, height, rotation};
}

Transform::Matrix matrix_from(const py::handle& obj) {
  const py::array_t<double, py::array::c_style | py::array::forcecast> a =
      py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a || a.ndim() != 2 || a.shape(0) != 3 || a.shape(1) != 3)
    throw py::value_error("matrix must be a 3 x 3 array of numbers");
  Transform::Matrix m;
  for (int k = 0; k < 9; ++k) {
    m[k] = a.data()[k];
    if (!std::isfinite(m[k])) throw py::value_error("matrix must be finite");
  }
  return m;
}

py::array_t<double> matrix_to_numpy(const Transform::Matrix& m) {
  py::array_t<double> a({3, 3});
  std::copy(m.begin(), m.end(), a.mutable_data());
  return a;
}

// points: [..., 2] float32 or float64 -> the same shape and dtype.
template <bool Normalized>
py::array apply_points(const Transform& t, const py::handle& obj) {
  const py::array a = require_ndarray(obj, "points");
  if (a.ndim() < 1 || a.shape(a.ndim() - 1) != 2)
    throw py::value_error("points must have shape [..., 2], got " + describe_shape(a));
  auto run = [&](auto tag) -> py::array {
    using T = decltype(tag);
    const auto in = py::array_t<T, py::array::c_style>::ensure(a);
    py::array_t<T> out(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
    const size_t count = static_cast<size_t>(a.size() / 2);
    if (Normalized) t.apply_normalized(in.data(), out.mutable_data(), count);
    else t.apply(in.data(), out.mutable_data(), count);
    return out;
  };
  if (a.dtype().is(py::dtype::of<float>())) return run(float{});
  if (a.dtype().is(py::dtype::of<double>())) return run(double{});
  throw py::type_error("points must be float32 or float64, got dtype " + dtype_name(a));
}

py::tuple size_tuple(Size s) { return py::make_tuple(s.width, s.height); }

}  // namespace

void bind_geometry(py::module_& m) {
  py::class_<Rect>(m, "Rect", "A rotated rectangle: centre and size in pixels, rotation in radians.")
      .def(py::init(&make_rect), py::arg("x_center"), py::arg("y_center"), py::arg("width"), py::arg("height"),
           py::arg("rotation") = 0.0)
      .def_readonly("x_center", &Rect::x_center)
      .def_readonly("y_center", &Rect::y_center)
      .def_readonly("width", &Rect::width)
      .def_readonly("height", &Rect::height)
      .def_readonly("rotation", &Rect::rotation)
      .def("__eq__",
           [](const Rect& a, const Rect& b) {
             return a.x_center == b.x_center && a.y_center == b.y_center && a.width == b.width &&
                    a.height == b.height && a.rotation == b.rotation;
           })
      .def("__hash__", [](const Rect& r) {
        return py::hash(py::make_tuple(r.x_center, r.y_center, r.width, r.height, r.rotation));
      })
      .def("__repr__", [](const Rect& r) {
        std::ostringstream s;
        s << "Rect(x_center=" << r.x_center << ", y_center=" << r.y_center << ", width=" << r.width
          << ", height=" << r.height << ", rotation=" << r.rotation << ")";
        return s.str();
      });

  py::class_<Transform>(m, "Transform",
                        "Sampling map from a tensor's pixel coordinates to an image's (pixel centres at integers).")
      .def(py::init([](const py::handle& matrix, const py::handle& src_size, const py::handle& dst_size,
                       const py::object& content) {
             const Size src = parse_size(src_size, "src_size"), dst = parse_size(dst_size, "dst_size");
             if (content.is_none()) return Transform(matrix_from(matrix), src, dst);
             const auto c = content.cast<std::tuple<int, int, int, int>>();
             const PixelRect r{std::get<0>(c), std::get<1>(c), std::get<2>(c), std::get<3>(c)};
             if (r.x0 < 0 || r.y0 < 0 || r.x1 > src.width || r.y1 > src.height || r.x0 >= r.x1 || r.y0 >= r.y1)
               throw py::value_error("content must be (x0, y0, x1, y1) inside src_size with x0 < x1 and y0 < y1");
             return Transform(matrix_from(matrix), src, dst, r);
           }),
           py::arg("matrix"), py::arg("src_size"), py::arg("dst_size"), py::arg("content") = py::none())
      .def_property_readonly("matrix", [](const Transform& t) { return matrix_to_numpy(t.matrix()); })
      .def_property_readonly("normalized_matrix",
                             [](const Transform& t) { return matrix_to_numpy(t.normalized_matrix()); })
      .def_property_readonly("src_size", [](const Transform& t) { return size_tuple(t.src_size()); })
      .def_property_readonly("dst_size", [](const Transform& t) { return size_tuple(t.dst_size()); })
      .def_property_readonly("content",
                             [](const Transform& t) {
                               const PixelRect c = t.content();
                               return py::make_tuple(c.x0, c.y0, c.x1, c.y1);
                             })
      .def("inverse",
           [](const Transform& t) {
             try {
               return t.inverse();
             } catch (const std::domain_error& e) {
               throw py::value_error(e.what());
             }
           })
      .def("apply", &apply_points<false>, py::arg("points"), "Map [..., 2] points from src to dst pixels.")
      .def("apply_normalized", &apply_points<true>, py::arg("points"),
           "Map [..., 2] normalised src points (x/w, y/h) to normalised dst points.")
      .def("__repr__", [](const Transform& t) {
        const auto& m = t.matrix();
        std::ostringstream s;
        s << "Transform(src_size=(" << t.src_size().width << ", " << t.src_size().height << "), dst_size=("
          << t.dst_size().width << ", " << t.dst_size().height << "), matrix=[[" << m[0] << ", " << m[1] << ", "
          << m[2] << "], [" << m[3] << ", " << m[4] << ", " << m[5] << "], [" << m[6] << ", " << m[7] << ", "
          << m[8] << "]])";
        return s.str();
      });
}

}  // namespace edgevision::bindings
