"""LSTM: darts' ``RNNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import RNN_ARCHITECTURE, DartsTorchForecaster


class LSTM(DartsTorchForecaster):
    r"""LSTM recurrent network trained by teacher forcing on sequences of ``training_length``
    samples to predict the next sample; the forecast feeds each prediction back (one
    step at a time, the hidden state carried along).

    Hochreiter & Schmidhuber (1997), *Long short-term memory*, Neural Computation 9, 1735; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "lstm"
    darts_model = "RNNModel"
    darts_fixed = {"model": "LSTM"}
    architecture = RNN_ARCHITECTURE
    training = {"n_epochs": (20, 200)}  # (default, full size)
    measured_cost = dict(lorenz_s=2.8, hyper_rossler_s=2.6, canonical_cpu_minutes=32)
