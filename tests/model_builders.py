"""Small models built in the tests: ONNX graphs with onnx.helper, TFLite flatbuffers with LiteRT's schema.

Each builder writes the file and returns what an independent NumPy reference needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def conv2d_nchw(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """Plain NumPy convolution (stride 1, cross-correlation like ONNX Conv), float64 accumulation."""
    n, _, h, wd = x.shape
    k = w.shape[2]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((n, w.shape[0], out_h, out_w))
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, :, dy:dy + out_h, dx:dx + out_w]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, dy, dx].astype(np.float64))
    return out + b.astype(np.float64)[None, :, None, None]


def _save(model, path: Path) -> Path:
    import onnx

    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def conv_relu_add(path: Path, rng: np.random.Generator, size=(16, 16)) -> dict:
    """y = relu(conv3x3(x)) + conv3x3(x): float32, x [1,3,H,W] -> y [1,8,H,W]."""
    from onnx import TensorProto, helper, numpy_helper

    w = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(8) * 0.1).astype(np.float32)
    h, wd = size[1], size[0]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Add", ["r", "c"], ["y"], name="add"),
    ]
    graph = helper.make_graph(
        nodes, "conv_relu_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, wd])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, h, wd])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)

    def reference(x):
        c = conv2d_nchw(x, w, b, 1)
        return np.maximum(c, 0) + c

    return {"path": path, "reference": reference, "shape": (1, 3, h, wd)}


def qdq_conv_relu(path: Path, rng: np.random.Generator) -> dict:
    """The QDQ form a quantiser emits for conv -> relu: uint8 activations, uint8 weights, int32 bias."""
    from onnx import TensorProto, helper, numpy_helper

    x_scale, x_zero = np.float32(1 / 255), np.uint8(0)
    w_float = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    w_scale = np.float32(np.abs(w_float).max() / 127)
    w_zero = np.uint8(128)
    w_q = np.clip(np.rint(w_float / w_scale) + 128, 0, 255).astype(np.uint8)
    b_scale = np.float32(x_scale * w_scale)
    b_q = np.rint(rng.standard_normal(4) * 0.05 / b_scale).astype(np.int32)
    y_scale, y_zero = np.float32(0.02), np.uint8(100)
    r_scale, r_zero = np.float32(0.01), np.uint8(0)
    inits = [
        numpy_helper.from_array(np.array(x_scale), "x_scale"), numpy_helper.from_array(np.array(x_zero), "x_zero"),
        numpy_helper.from_array(w_q, "w_q"), numpy_helper.from_array(np.array(w_scale), "w_scale"),
        numpy_helper.from_array(np.array(w_zero), "w_zero"),
        numpy_helper.from_array(b_q, "b_q"), numpy_helper.from_array(np.array(b_scale), "b_scale"),
        numpy_helper.from_array(np.array(0, np.int32), "b_zero"),
        numpy_helper.from_array(np.array(y_scale), "y_scale"), numpy_helper.from_array(np.array(y_zero), "y_zero"),
        numpy_helper.from_array(np.array(r_scale), "r_scale"), numpy_helper.from_array(np.array(r_zero), "r_zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"], name="q_x"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zero"], ["xd"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["wd"], name="dq_w"),
        helper.make_node("DequantizeLinear", ["b_q", "b_scale", "b_zero"], ["bd"], name="dq_b"),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("QuantizeLinear", ["c", "y_scale", "y_zero"], ["cq"], name="q_c"),
        helper.make_node("DequantizeLinear", ["cq", "y_scale", "y_zero"], ["cd"], name="dq_c"),
        helper.make_node("Relu", ["cd"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "r_scale", "r_zero"], ["rq"], name="q_r"),
        helper.make_node("DequantizeLinear", ["rq", "r_scale", "r_zero"], ["y"], name="dq_y"),
    ]
    graph = helper.make_graph(
        nodes, "qdq_conv_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])], inits)
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return {"path": path, "shape": (1, 3, 16, 16), "step": float(r_scale)}


def uint8_io(path: Path) -> dict:
    """uint8 in -> DequantizeLinear -> Relu -> QuantizeLinear -> int8 out: quantised graph I/O."""
    from onnx import TensorProto, helper, numpy_helper

    params = {"in": (0.05, 120), "out": (0.03, -5)}
    inits = [
        numpy_helper.from_array(np.array(params["in"][0], np.float32), "in_scale"),
        numpy_helper.from_array(np.array(params["in"][1], np.uint8), "in_zero"),
        numpy_helper.from_array(np.array(params["out"][0], np.float32), "out_scale"),
        numpy_helper.from_array(np.array(params["out"][1], np.int8), "out_zero"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["image", "in_scale", "in_zero"], ["f"], name="dq"),
        helper.make_node("Relu", ["f"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "out_scale", "out_zero"], ["out"], name="q"),
    ]
    graph = helper.make_graph(
        nodes, "uint8_io",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 2, 3, 4])],
        [helper.make_tensor_value_info("out", TensorProto.INT8, [1, 2, 3, 4])], inits)
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return {"path": path, **params}


def with_unsupported_op(path: Path) -> dict:
    """Relu -> Det -> Add: QNN has no Det, so that node falls back to the CPU."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Det", ["r"], ["d"], name="det"),
        helper.make_node("Add", ["d", "d"], ["y"], name="add"),
    ]
    graph = helper.make_graph(
        nodes, "with_det",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return {"path": path, "shape": (2, 3, 3), "reference": lambda x: 2 * np.linalg.det(np.maximum(x, 0))}


def dynamic_batch(path: Path) -> dict:
    """y = x * 2 with a symbolic batch dimension."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"], name="mul")], "dynamic",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return {"path": path}


def quantized_tflite(path: Path, in_q=(0.02, 10), out_q=(0.05, -3), shape=(1, 4, 4, 3), dynamic_batch=False) -> dict:
    """TFLite: uint8 input -> DEQUANTIZE -> ADD(x, x) -> QUANTIZE -> int8 output (batch -1 if dynamic)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    def code(op):
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = op, min(op, 127), 1
        return c

    def tensor(name, tensor_type, buffer, q=None):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), tensor_type, buffer
        if dynamic_batch:
            t.shapeSignature = [-1, *shape[1:]]
        if q is not None:
            t.quantization = s.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [q[0]], [q[1]]
        return t

    def operator(index, inputs, outputs, options_type=0, options=None):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = index, inputs, outputs
        if options is not None:
            o.builtinOptionsType, o.builtinOptions = options_type, options
        return o

    model = s.ModelT()
    model.version = 3
    model.operatorCodes = [code(s.BuiltinOperator.DEQUANTIZE), code(s.BuiltinOperator.ADD),
                           code(s.BuiltinOperator.QUANTIZE)]
    model.buffers = [s.BufferT() for _ in range(5)]  # buffer 0 is the conventional empty one
    graph = s.SubGraphT()
    graph.name = "main"
    graph.tensors = [tensor("image", s.TensorType.UINT8, 1, in_q), tensor("real", s.TensorType.FLOAT32, 2),
                     tensor("doubled", s.TensorType.FLOAT32, 3), tensor("scores", s.TensorType.INT8, 4, out_q)]
    graph.inputs, graph.outputs = [0], [3]
    graph.operators = [operator(0, [0], [1]),
                       operator(1, [1, 1], [2], s.BuiltinOptions.AddOptions, s.AddOptionsT()),
                       operator(2, [2], [3])]
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    Path(path).write_bytes(builder.Output())
    return {"path": Path(path), "in": in_q, "out": out_q, "shape": shape}


def facemap_3dmm_like(path: Path, rng: np.random.Generator, layout: str = "nchw") -> dict:
    """AI Hub facemap_3dmm's I/O contract with random weights: ``image`` [1,3,128,128] (or
    NHWC [1,128,128,3]) float32 in [0, 1] -> ``parameters_3dmm`` [1,265]. Inside: 16x16 block
    means, a dense layer, tanh (values in (-1, 1), as the real model's roughly are)."""
    from onnx import TensorProto, helper, numpy_helper

    w = (rng.standard_normal((192, 265)) * 0.12).astype(np.float32)
    b = (rng.standard_normal(265) * 0.2).astype(np.float32)
    nodes = []
    source = "image"
    if layout == "nhwc":
        nodes.append(helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2], name="to_nchw"))
        source = "nchw"
    nodes += [
        helper.make_node("AveragePool", [source], ["pooled"], kernel_shape=[16, 16], strides=[16, 16], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["flat", "w", "b"], ["dense"], name="dense"),
        helper.make_node("Tanh", ["dense"], ["parameters_3dmm"], name="tanh"),
    ]
    shape = [1, 3, 128, 128] if layout == "nchw" else [1, 128, 128, 3]
    graph = helper.make_graph(
        nodes, "facemap_3dmm_like",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("parameters_3dmm", TensorProto.FLOAT, [1, 265])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)

    def reference(image_nchw):
        """[1, 3, 128, 128] float in [0, 1] -> [1, 265], float64."""
        pooled = image_nchw.astype(np.float64).reshape(1, 3, 8, 16, 8, 16).mean(axis=(3, 5))
        return np.tanh(pooled.reshape(1, 192) @ w.astype(np.float64) + b)

    return {"path": path, "reference": reference}
