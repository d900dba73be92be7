"""TFLite -> ONNX conversion of the MediaPipe models, QNN-ready quantisation, accuracy vs LiteRT.

>>> from edgevision import convert
>>> convert.tflite_to_onnx("selfie_segmentation.tflite", "selfie.onnx")   # same I/O names, NHWC
>>> convert.converted("selfie_segmentation")          # a zoo model's conversion, cached
>>> convert.quantize("selfie.onnx", "selfie.w8a8.onnx", calibration="synthetic")
>>> print(convert.accuracy("selfie.w8a8.onnx", reference="litert").table())

Needs ``pip install 'edgevision[onnx]'`` (``onnx`` writes the graph, ``onnxruntime`` runs and
quantises it). CLI: ``edgevision models convert|quantize|accuracy``.
"""

from .accuracy import AccuracyReport, OutputAccuracy, accuracy
from .converter import CONVERTER_VERSION, LAYOUTS, OPSET, metadata, tflite_to_onnx
from .errors import UnsupportedOperatorError
from .flatbuffer import read_tflite
from .ops import BUILTINS, CUSTOM
from .quantize import PRECISIONS, quantize
from .zoo import card_of, converted, converted_path

__all__ = ["AccuracyReport", "BUILTINS", "CONVERTER_VERSION", "CUSTOM", "LAYOUTS", "OPSET", "OutputAccuracy",
           "PRECISIONS", "UnsupportedOperatorError", "accuracy", "card_of", "converted", "converted_path", "metadata",
           "quantize", "read_tflite", "tflite_to_onnx"]
