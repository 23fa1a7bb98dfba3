"""The error of the experiments package (its own module, so that every other module can import it)."""


class ExperimentError(RuntimeError):
    """An experiment that cannot run or whose stored results do not fit; the message says why."""
