"""SL401 data-input-mismatch: the data a program feeds a model does not fit the model's input."""

from shapelint.rules.base import Rule, batch_shape, format_shape


def describe(problem, node, span_of):
    d = problem.data
    origin = d.get("origin")
    source = f" ({origin.describe(span_of)})" if origin is not None else ""
    if d["why"] == "feed":
        value, placeholder = format_shape(d["data"]), format_shape(d["spec"])
        detail = (f"a {len(d['data'])}-D value for a {len(d['spec'])}-D placeholder" if len(d["data"]) != len(d["spec"])
                  else "sizes the placeholder fixes differ")
        return f"{d['method']}: value {value}{source} vs placeholder {placeholder}: {detail} (TF: {d['tf']})"
    data, spec = batch_shape(d["data"]), batch_shape(d["spec"])
    method = d["method"] if d["method"] == "validation_data" else f"model.{d['method']}"
    if d["why"] == "rank":
        detail = (f"a {len(d['data'])}-D array for a {len(d['spec'])}-D input, which Keras cannot squeeze or expand "
                  f"(it only drops or adds a trailing axis of size 1)")
        if len(d["spec"]) == len(d["data"]) + 1 and tuple(d["spec"][1:]) == tuple(d["data"]):
            detail += "; the input shape was given the array's whole shape, batch included: use x.shape[1:]"
    else:
        axis = d["axis"]
        detail = f"dim {axis} is {d['data'][axis]} where the input declares {d['spec'][axis]}"
        layer = d.get("layer")
        if layer is not None:
            where = span_of(layer.def_site)
            detail += f"; the {layer.name} at line {where.line} rejects it"
            return f"{method}: data {data}{source} vs model input {spec}: {detail}"
    return f"{method}: data {data}{source} vs model input {spec}: {detail} (Keras: {d['keras']})"


RULE = Rule("SL401", "data-input-mismatch", "error",
            "the data fed to a model (fit / predict / a loader batch) does not fit its input",
            kinds=("data_input",), describe=describe)
