"""SL402 loss-target-mismatch: the targets a loss compares do not fit the model's output."""

from shapelint.rules.base import Rule, batch_shape, format_shape, origin


def sources(problem, node, span_of):
    """(' (to_categorical at line 7)', ' (Dense at line 14)'): where the targets and the output came from."""
    d = problem.data
    source = d.get("origin")
    target_from = f" ({source.describe(span_of)})" if source is not None else ""
    produced = origin(node, span_of, 0 if d.get("framework") in ("torch", "tf") else 1)
    output_from = f" ({produced[len('from '):]})" if produced.startswith("from ") and "model input" not in produced \
        and "no layer" not in produced else ""
    return target_from, output_from


def describe_torch(problem, node, span_of):
    d = problem.data
    target_from, output_from = sources(problem, node, span_of)
    t, o = d["target"], d["output"]
    inputs = "logits" if d.get("framework") == "tf" else "input"
    head = f"{d['loss']}: labels {format_shape(t)}{target_from} vs {inputs} {format_shape(o)}{output_from}: " \
        if d.get("framework") == "tf" else \
        f"{d['loss']}: target {format_shape(t)}{target_from} vs input {format_shape(o)}{output_from}: "
    why = d["why"]
    if why == "index rank":
        text = f"class indices must have rank input.ndim - 1 = {len(o) - 1} (they are {len(t)}-D)"
        if len(t) == len(o) and t[-1] == 1:
            text += "; squeeze the trailing axis of size 1 (target.squeeze(1))"
        elif d.get("hint") == "probabilities":
            text += "; class probabilities must have the input's shape"
    elif why == "batch":
        text = (f"the input holds {o[0]} rows for {t[0]} targets: a reshape before the classifier folds "
                f"per-example values into the batch")
    elif why == "spatial":
        text = "the targets' spatial sizes differ from the input's"
    elif why == "index dtype":
        text = "class indices must be integers (int64)"
    elif why == "probabilities dtype":
        text = "targets of the input's shape are class probabilities and must be floating point"
    elif why == "sparse rank":
        text = f"class indices must have rank {inputs}.ndim - 1 = {len(o) - 1} (they are {len(t)}-D)"
        if len(t) == len(o) and t[-1] == o[-1]:
            text += "; these labels look one-hot: use the non-sparse loss"
    elif why in ("rank", "shape") and d.get("framework") == "tf":
        axis = d.get("axis")
        text = (f"the labels must have the {inputs}' shape" if axis is None else
                f"dim {axis} is {t[axis]} in the labels and {o[axis]} in the {inputs}")
    else:
        text = "the target must have the input's size"
    if d.get("framework") == "tf":
        return head + text + f" (TF: {d['tf']})"
    return head + text + f" (torch: {d['torch']})"


def describe(problem, node, span_of):
    d = problem.data
    if d.get("framework") in ("torch", "tf"):
        return describe_torch(problem, node, span_of)
    target_from, output_from = sources(problem, node, span_of)
    t, o = d["target"], d["output"]
    method = d["method"] if d["method"] == "validation_data" else f"model.{d['method']}"
    head = (f"{method}: targets {batch_shape(d['given_target'])}{target_from} vs output "
            f"{batch_shape(d['given_output'])}{output_from} under {d['loss']}: ")
    loss = d["loss"]
    if d["why"] == "rank":
        text = f"the targets must have the output's rank ({len(t)}-D vs {len(o)}-D)"
        if len(o) > 2 and len(t) == 2 and output_from.startswith(" (Dense"):
            text += (f"; Dense acts on the last axis of a {len(o)}-D tensor; add Flatten() or "
                     f"GlobalAveragePooling{len(o) - 2}D() before it")
        elif len(t) == len(o) - 1:
            text += "; integer class labels need sparse_categorical_crossentropy (or to_categorical on the labels)"
    elif d["why"] == "sparse rank":
        text = f"class indices must have rank output.ndim - 1 = {len(o) - 1} (they are {len(t)}-D)"
        if len(t) == len(o) and t[-1] == o[-1]:
            text += "; these targets look one-hot: use categorical_crossentropy"
    else:
        axis = d["axis"]
        text = f"dim {axis} is {t[axis]} in the targets and {o[axis]} in the output"
        if axis == len(o) - 1 and t[axis] == 1 and "categorical" in str(loss).lower() and "sparse" not in str(loss):
            text += "; class indices of shape (N, 1) need sparse_categorical_crossentropy (or to_categorical)"
    return head + text + f" (Keras: {d['keras']})"


RULE = Rule("SL402", "loss-target-mismatch", "error",
            "the targets a loss compares with the model's output have the wrong shape",
            kinds=("loss_target",), describe=describe)
