// edgevision._native: the only Python extension module. The Python package re-exports it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "edgevision/isa.hpp"

namespace py = pybind11;

namespace edgevision::bindings {
void bind_geometry(py::module_& m);
void bind_kernels(py::module_& m);
void bind_quantize(py::module_& m);
void bind_detection(py::module_& m);
void bind_landmarks(py::module_& m);
void bind_filters(py::module_& m);
void bind_face_3dmm(py::module_& m);
void bind_sam2(py::module_& m);
void bind_segmentation_head(py::module_& m);
}  // namespace edgevision::bindings

namespace {

py::dict build_info() {
  using namespace edgevision;
  py::dict info;
  info["isa"] = isa_name(active_isa());
  info["best_isa"] = isa_name(best_isa());
  py::list supported;
  for (Isa isa : supported_isas()) supported.append(isa_name(isa));
  info["supported_isas"] = supported;
#if defined(__aarch64__)
  info["architecture"] = "aarch64";
#elif defined(__x86_64__)
  info["architecture"] = "x86_64";
#else
  info["architecture"] = "other";
#endif
  info["compiler"] = __VERSION__;
#if defined(NDEBUG)
  info["build_type"] = "release";
#else
  info["build_type"] = "debug";
#endif
  return info;
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "edgevision native kernels";
  edgevision::bindings::bind_geometry(m);
  edgevision::bindings::bind_kernels(m);
  edgevision::bindings::bind_quantize(m);
  edgevision::bindings::bind_detection(m);
  edgevision::bindings::bind_landmarks(m);
  edgevision::bindings::bind_filters(m);
  edgevision::bindings::bind_face_3dmm(m);
  edgevision::bindings::bind_sam2(m);
  edgevision::bindings::bind_segmentation_head(m);
  m.def("build_info", &build_info);
  m.def("_supported_isas", [] {
    std::vector<std::string> names;
    for (auto isa : edgevision::supported_isas()) names.push_back(edgevision::isa_name(isa));
    return names;
  });
  // Test hook: run every kernel on one SIMD path (None: back to automatic).
  m.def(
      "_force_isa",
      [](const py::object& name) {
        if (name.is_none()) return edgevision::unforce_isa();
        try {
          edgevision::force_isa(edgevision::isa_from_name(name.cast<std::string>()));
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("name"));
}
