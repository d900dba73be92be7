// Temporal filters as Python classes, and segmentation_smoothing. Filter methods keep the
// GIL (they are microseconds long), which also serialises calls on one filter object.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "arrays.hpp"
#include "detection_args.hpp"
#include "edgevision/filters.hpp"

namespace edgevision::bindings {

namespace {

constexpr int64_t kMaxTimestampUs = std::numeric_limits<int64_t>::max() / 1000;

int64_t timestamp_ns(const py::handle& obj) { return integer_in(obj, "timestamp_us", 0, kMaxTimestampUs) * 1000; }

double non_negative(const py::handle& obj, const char* name) { return number_in(obj, name, 0.0, 1e30); }

double positive(const py::handle& obj, const char* name) {
  const double v = number_in(obj, name, 0.0, 1e30);
  if (!(v > 0)) throw py::value_error(std::string(name) + " must be positive, got " + repr_of(obj));
  return v;
}

OneEuroOptions one_euro_options(const py::handle& min_cutoff, const py::handle& beta,
                                const py::handle& derivate_cutoff, const py::handle& frequency) {
  OneEuroOptions o;
  o.min_cutoff = non_negative(min_cutoff, "min_cutoff");
  o.beta = non_negative(beta, "beta");
  o.derivate_cutoff = non_negative(derivate_cutoff, "derivate_cutoff");
  o.frequency = positive(frequency, "frequency");
  return o;
}

[[noreturn]] void count_changed(const char* what, int64_t had, int64_t got) {
  throw py::value_error(std::string(what) + " changed from " + std::to_string(had) + " to " + std::to_string(got) +
                        "; call reset() first");
}

// values: float32 array of any shape; returns the filtered copy.
py::array one_euro_apply(OneEuroFilterBank& f, const py::handle& values_obj, const py::handle& t,
                         const py::handle& value_scale_obj) {
  const py::array values = float32_array(values_obj, "values");
  const int64_t ns = timestamp_ns(t);
  const double value_scale = real_number(value_scale_obj, "value_scale");
  if (!std::isfinite(value_scale)) throw py::value_error("value_scale must be finite, got " + repr_of(value_scale_obj));
  const int64_t n = values.size();
  if (f.size() != 0 && f.size() != n) count_changed("the number of values", f.size(), n);
  const auto in = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(values);
  std::vector<double> buffer(in.data(), in.data() + n);
  f.apply(ns, value_scale, buffer.data(), n);
  py::array_t<float> out(std::vector<py::ssize_t>(values.shape(), values.shape() + values.ndim()));
  std::copy(buffer.begin(), buffer.end(), out.mutable_data());
  return out;
}

py::array low_pass_apply(LowPassFilterBank& f, const py::handle& values_obj) {
  const py::array values = float32_array(values_obj, "values");
  const int64_t n = values.size();
  if (f.size() != 0 && f.size() != n) count_changed("the number of values", f.size(), n);
  py::array_t<float> out(std::vector<py::ssize_t>(values.shape(), values.shape() + values.ndim()));
  const auto in = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(values);
  std::copy(in.data(), in.data() + n, out.mutable_data());
  f.apply(out.mutable_data(), n);
  return out;
}

MatrixView<float> landmark_rows(const py::handle& obj, int64_t min_cols) {
  const MatrixView<float> v = rows_view(obj, "landmarks");
  if (require_ndarray(obj, "landmarks").ndim() != 2 || (v.rows > 0 && v.cols < min_cols))
    throw py::value_error("landmarks must have shape [n, d] with d >= " + std::to_string(min_cols) + ", got " +
                          describe_shape(py::reinterpret_borrow<py::array>(obj)));
  return v;
}

py::array smoother_apply(LandmarksSmoother& s, const py::handle& landmarks, const py::handle& t,
                         const py::object& image_size, const py::object& object_scale) {
  const MatrixView<float> lm = landmark_rows(landmarks, 2);
  const int64_t ns = timestamp_ns(t);
  std::optional<Size> size;
  if (!image_size.is_none()) size = parse_size(image_size, "image_size");
  std::optional<float> scale;
  if (py::isinstance<Rect>(object_scale)) {
    const Rect r = object_scale.cast<Rect>();
    scale = static_cast<float>((r.width + r.height) / 2.0);
  } else if (!object_scale.is_none()) {
    const double v = real_number(object_scale, "object_scale");
    if (!(v >= 0) || !std::isfinite(v))
      throw py::value_error("object_scale must be a non-negative number of pixels, an edgevision.Rect or None, got " +
                            repr_of(object_scale));
    scale = static_cast<float>(v);
  }
  if (lm.rows > 0 && s.num_landmarks() != 0 && s.num_landmarks() != lm.rows)
    count_changed("the number of landmarks", s.num_landmarks(), lm.rows);
  py::array_t<float> out({static_cast<py::ssize_t>(lm.rows), static_cast<py::ssize_t>(lm.cols)});
  s.apply(lm, ns, size, scale, out.mutable_data());
  return out;
}

py::array visibility_apply(VisibilitySmoother& f, const py::handle& landmarks) {
  const MatrixView<float> lm = landmark_rows(landmarks, 4);
  if (f.num_landmarks() != 0 && lm.rows > 0 && f.num_landmarks() != lm.rows)
    count_changed("the number of landmarks", f.num_landmarks(), lm.rows);
  py::array_t<float> out({static_cast<py::ssize_t>(lm.rows), static_cast<py::ssize_t>(lm.cols)});
  f.apply(lm, out.mutable_data());
  return out;
}

// Whether two arrays' memory ranges meet.
bool overlaps(const py::handle& a, const py::array& b) {
  return py::module_::import("numpy").attr("may_share_memory")(a, b).cast<bool>();
}

py::array segmentation_smoothing_py(const py::object& previous, const py::handle& current, const py::handle& ratio_obj,
                                    const py::object& out, const py::object& size, const py::object& transform,
                                    const py::handle& border, const py::handle& threads_obj) {
  const PlaneView<float> cur = plane_view<float>(current, "current");
  const int threads = parse_threads(threads_obj);
  const float ratio = static_cast<float>(number_in(ratio_obj, "ratio", 0.0, 1.0));
  // With `size`, `current` is at model resolution and is resized (as resize_mask) in the pass.
  std::optional<MaskResize> resize;
  std::optional<Transform> tf;
  if (!size.is_none()) {
    resize.emplace();
    resize->size = parse_size(size, "size");
    resize->border = parse_border(border);
    tf = optional_transform(transform);
    if (tf) resize->transform = &*tf;
  } else if (!transform.is_none()) {
    throw py::value_error("transform needs size: the (width, height) to resize current to");
  }
  const Size out_size = resize ? resize->size : Size{cur.width, cur.height};
  py::array_t<float> result = float_output(out, {out_size.height, out_size.width});
  float* d = result.mutable_data();
  if (previous.is_none()) {  // first frame: the mask passes through (resized)
    py::gil_scoped_release release;
    if (resize) {
      resize_mask(cur, *resize, d, threads);
    } else {
      for (int i = 0; i < cur.height; ++i)
        for (int j = 0; j < cur.width; ++j)
          d[int64_t{i} * cur.width + j] = cur.data[i * cur.row_stride + j * cur.col_stride];
    }
    return result;
  }
  PlaneView<float> prev = plane_view<float>(previous, "previous");
  if (prev.width != out_size.width || prev.height != out_size.height)
    throw py::value_error("previous must be " + std::to_string(out_size.height) + " x " +
                          std::to_string(out_size.width) + (resize ? " (size)" : " like current") + ", got " +
                          std::to_string(prev.height) + " x " + std::to_string(prev.width));
  py::array previous_copy;
  // The fused pass reads previous by contiguous rows, after writing each output row: a strided
  // previous, or one that is also `out` (smoothing in place), is copied first.
  if (resize && (prev.col_stride != 1 || overlaps(previous, result))) {
    previous_copy = py::array_t<float, py::array::c_style>(py::module_::import("numpy").attr("array")(previous));
    prev = plane_view<float>(previous_copy, "previous");
  }
  {
    py::gil_scoped_release release;
    if (resize) segmentation_smoothing(prev, cur, *resize, ratio, d, threads);
    else segmentation_smoothing(prev, cur, ratio, d);
  }
  return result;
}

}  // namespace

void bind_filters(py::module_& m) {
  py::class_<OneEuroFilterBank>(m, "OneEuroFilter", R"doc(
One-euro filters with MediaPipe's semantics, one per element of the arrays passed to
``apply`` (all sharing the timestamps).

``OneEuroFilter(min_cutoff=1.0, beta=0.0, derivate_cutoff=1.0, frequency=30.0)``

``apply(values, timestamp_us, value_scale=1.0)`` returns the filtered float32 copy of
``values`` (any shape; the first call fixes the number of elements). Per element, with
``a(fc) = 1 / (1 + rate / (2*pi*fc))``: ``dx = (x - previous raw x) * value_scale * rate``
(0 on the first sample), low-passed with ``a(derivate_cutoff)``; the value is low-passed
with ``a(min_cutoff + beta * |dx|)``. ``rate`` is ``frequency`` until two non-zero
timestamps give ``1 / dt``. The first sample passes through; a timestamp not after the
previous one returns ``values`` unchanged. Low-pass state is float32, as in MediaPipe.
)doc")
      .def(py::init([](const py::handle& min_cutoff, const py::handle& beta, const py::handle& derivate_cutoff,
                       const py::handle& frequency) {
             return OneEuroFilterBank(one_euro_options(min_cutoff, beta, derivate_cutoff, frequency));
           }),
           py::arg("min_cutoff") = 1.0, py::arg("beta") = 0.0, py::arg("derivate_cutoff") = 1.0,
           py::arg("frequency") = 30.0)
      .def("apply", &one_euro_apply, py::arg("values"), py::arg("timestamp_us"), py::arg("value_scale") = 1.0)
      .def("reset", &OneEuroFilterBank::reset, "Forget all state (the next sample passes through).")
      .def_property_readonly("min_cutoff", [](const OneEuroFilterBank& f) { return f.options().min_cutoff; })
      .def_property_readonly("beta", [](const OneEuroFilterBank& f) { return f.options().beta; })
      .def_property_readonly("derivate_cutoff", [](const OneEuroFilterBank& f) { return f.options().derivate_cutoff; })
      .def_property_readonly("frequency", [](const OneEuroFilterBank& f) { return f.options().frequency; });

  py::class_<LowPassFilterBank>(m, "LowPassFilter", R"doc(
``y = alpha * x + (1 - alpha) * y_previous`` per element (MediaPipe's LowPassFilter, float32
state); the first sample passes through.

``LowPassFilter(alpha)``; ``apply(values)`` returns the filtered float32 copy (any shape;
the first call fixes the number of elements); ``reset()``.
)doc")
      .def(py::init([](const py::handle& alpha) {
             return LowPassFilterBank(static_cast<float>(number_in(alpha, "alpha", 0.0, 1.0)));
           }),
           py::arg("alpha"))
      .def("apply", &low_pass_apply, py::arg("values"))
      .def("reset", &LowPassFilterBank::reset)
      .def_property_readonly("alpha", &LowPassFilterBank::alpha);

  py::class_<VisibilitySmoother>(m, "VisibilitySmoother", R"doc(
MediaPipe's VisibilitySmoothingCalculator (``low_pass_filter { alpha }``): the visibility
column (index 3) of ``[n, d >= 4]`` landmarks low-passed per landmark; the other columns are
copied. ``VisibilitySmoother(alpha=0.1)``; ``apply(landmarks)`` returns the new array;
``reset()``. MediaPipe does not reset it when the subject is lost.
)doc")
      .def(py::init([](const py::handle& alpha) {
             return VisibilitySmoother(static_cast<float>(number_in(alpha, "alpha", 0.0, 1.0)));
           }),
           py::arg("alpha") = 0.1)
      .def("apply", &visibility_apply, py::arg("landmarks"))
      .def("reset", &VisibilitySmoother::reset)
      .def_property_readonly("alpha", &VisibilitySmoother::alpha);

  py::class_<LandmarksSmoother>(m, "LandmarksSmoother", R"doc(
MediaPipe's LandmarksSmoothingCalculator with ``one_euro_filter``: x, y and z of every
landmark filtered by their own one-euro filter (see :class:`OneEuroFilter`); other columns
(visibility, presence) are copied.

``LandmarksSmoother(min_cutoff, beta, derivate_cutoff=1.0, frequency=30.0,
disable_value_scaling=False, min_allowed_object_scale=1e-6)``

``apply(landmarks, timestamp_us, image_size=None, object_scale=None)`` -> float32 array
shaped like ``landmarks`` (``[n, d >= 2]``):

* ``image_size=(W, H)``: the landmarks are normalised and are filtered in pixels
  (``x*W, y*H, z*W``); ``None`` for world landmarks (filtered as given).
* value scaling (unless disabled): the derivative is multiplied by ``1 / object_scale``;
  ``object_scale`` is in pixels, or an :class:`edgevision.Rect` (``(width + height) / 2``,
  MediaPipe's OBJECT_SCALE_ROI), or ``None`` for the mean of the landmarks' bounding-box
  width and height. Below ``min_allowed_object_scale`` the landmarks pass through.
* ``n == 0`` landmarks resets the filters, as MediaPipe does when the subject is lost;
  so does ``reset()``.
)doc")
      .def(py::init([](const py::handle& min_cutoff, const py::handle& beta, const py::handle& derivate_cutoff,
                       const py::handle& frequency, const py::handle& disable_value_scaling,
                       const py::handle& min_allowed_object_scale) {
             LandmarksSmoothing o;
             o.filter = one_euro_options(min_cutoff, beta, derivate_cutoff, frequency);
             o.disable_value_scaling = parse_flag(disable_value_scaling, "disable_value_scaling");
             o.min_allowed_object_scale = static_cast<float>(non_negative(min_allowed_object_scale,
                                                                          "min_allowed_object_scale"));
             return LandmarksSmoother(o);
           }),
           py::arg("min_cutoff"), py::arg("beta"), py::arg("derivate_cutoff") = 1.0, py::arg("frequency") = 30.0,
           py::arg("disable_value_scaling") = false, py::arg("min_allowed_object_scale") = 1e-6)
      .def("apply", &smoother_apply, py::arg("landmarks"), py::arg("timestamp_us"), py::arg("image_size") = py::none(),
           py::arg("object_scale") = py::none())
      .def("reset", &LandmarksSmoother::reset)
      .def_property_readonly("num_landmarks", &LandmarksSmoother::num_landmarks);

  m.def("segmentation_smoothing", &segmentation_smoothing_py);
}

}  // namespace edgevision::bindings
