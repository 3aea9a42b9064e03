"""Keeps runtime ground-truth runs short without changing a shape (see README.md)."""
import itertools


def cap_torch():
    from torch.utils.data import BatchSampler

    original = BatchSampler.__iter__

    def first_two_and_last(self):
        batches = original(self)
        first = list(itertools.islice(batches, 2))
        last = None
        for last in batches:
            pass
        yield from first
        if last is not None:
            yield last

    BatchSampler.__iter__ = first_two_and_last


def cap_keras(keras):
    model = keras.Model
    fit, evaluate, predict = model.fit, model.evaluate, model.predict

    def short_fit(self, *args, **kwargs):
        kwargs.update(epochs=1, steps_per_epoch=2, verbose=0)
        if kwargs.get("validation_data") is not None or kwargs.get("validation_split"):
            kwargs["validation_steps"] = 1
        return fit(self, *args, **kwargs)

    def short_evaluate(self, *args, **kwargs):
        kwargs.update(steps=1, verbose=0)
        return evaluate(self, *args, **kwargs)

    def short_predict(self, *args, **kwargs):
        kwargs.update(steps=1, verbose=0)
        return predict(self, *args, **kwargs)

    model.fit, model.evaluate, model.predict = short_fit, short_evaluate, short_predict
