"""Build-time repairs that make third-party ONNX files load and run in ONNX Runtime.

OpenCV Zoo's block-quantised int8 files (``*_int8bq.onnx``) store each weight as int8 plus a
``DequantizeLinear`` with ``block_size`` (opset 21), which not every ONNX Runtime release runs,
and some exporters list weight tensors as graph inputs too. These passes turn the constant
dequantisation into plain float32 weights, fold the constant reshapes that follow, drop weights
and unused tensors from the graph inputs and free chosen input dimensions. Written by hand
over ``onnx``: the passes are small, and onnxruntime's own tools do not cover block
quantisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import numpy_helper


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def dequantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int,
               block_size: int) -> np.ndarray:
    """ONNX ``DequantizeLinear`` (per tensor, per axis or blocked) on constant arrays."""
    x = x.astype(np.float32)
    zero_f = np.zeros_like(scale, dtype=np.float32) if zero is None else zero.astype(np.float32)
    if scale.ndim == 0 or scale.size == 1:
        return (x - zero_f.reshape(())) * scale.reshape(()).astype(np.float32)
    axis = axis % x.ndim
    if block_size:
        scale = np.repeat(scale, block_size, axis=axis)
        zero_f = np.repeat(zero_f, block_size, axis=axis)
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, x.shape[axis])
        scale, zero_f = scale[tuple(index)], zero_f[tuple(index)]
    else:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_f = scale.reshape(shape), zero_f.reshape(shape)
    return ((x - zero_f) * scale.astype(np.float32)).astype(np.float32)


def fold_constant_weights(model: onnx.ModelProto) -> int:
    """Replace DequantizeLinear (and a Reshape after it) on constants by float32 initializers.

    Returns the number of nodes removed.
    """
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kept, removed = [], 0
    for node in graph.node:
        ins = [i for i in node.input if i]
        if node.op_type == "DequantizeLinear" and all(i in consts for i in ins):
            zero = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            out = dequantize(consts[node.input[0]], consts[node.input[1]], zero,
                             _attr(node, "axis", 1), _attr(node, "block_size", 0))
        elif node.op_type == "Reshape" and all(i in consts for i in ins):
            out = consts[node.input[0]].reshape(consts[node.input[1]].astype(np.int64))
        else:
            kept.append(node)
            continue
        consts[node.output[0]] = out
        removed += 1
    used = {i for n in kept for i in n.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(numpy_helper.from_array(np.asarray(v), k)
                             for k, v in consts.items() if k in used)
    return removed


def drop_weight_inputs(model: onnx.ModelProto) -> list[str]:
    """Remove graph inputs that are initializers or that no node reads; returns their names.

    The int8 SFace file lists its 29 original weight tensors as inputs though nothing uses
    them, so a session would demand them.
    """
    inits = {i.name for i in model.graph.initializer}
    read = {i for n in model.graph.node for i in n.input}
    dropped = [i.name for i in model.graph.input if i.name in inits or i.name not in read]
    real = [i for i in model.graph.input if i.name not in dropped]
    del model.graph.input[:]
    model.graph.input.extend(real)
    return dropped


def free_dims(model: onnx.ModelProto, dims: dict[int, str],
              outputs: Sequence[int] = (0,)) -> None:
    """Make the first input's dimensions `dims` (axis -> name) symbolic; `outputs` axes too."""
    shape = model.graph.input[0].type.tensor_type.shape
    for axis, name in dims.items():
        shape.dim[axis].ClearField("dim_value")
        shape.dim[axis].dim_param = name
    for out in model.graph.output:
        oshape = out.type.tensor_type.shape
        for axis in outputs:
            if axis < len(oshape.dim):
                oshape.dim[axis].ClearField("dim_value")
                oshape.dim[axis].dim_param = f"out{axis}"
    del model.graph.value_info[:]  # stale fixed shapes would contradict the free ones


def repair(src: str, dest: str, dims: dict[int, str] | None = None,
           outputs: Sequence[int] = (0,)) -> dict:
    """Write a float32, loadable copy of `src` to `dest`; returns what was changed."""
    model = onnx.load(src)
    folded = fold_constant_weights(model)
    dropped = drop_weight_inputs(model)
    if dims:
        free_dims(model, dims, outputs)
    model.producer_name = "facelens onnx_repair"
    onnx.checker.check_model(model)
    onnx.save(model, dest)
    return {"dequantized_nodes": folded, "inputs_dropped": len(dropped),
            "free_dims": {str(k): v for k, v in (dims or {}).items()}}

