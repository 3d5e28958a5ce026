"""GRU: darts' ``RNNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import RNN_ARCHITECTURE, DartsTorchForecaster


class GRU(DartsTorchForecaster):
    r"""Gated recurrent unit network trained by teacher forcing on sequences of
    ``training_length`` samples to predict the next sample; the forecast feeds each
    prediction back (one step at a time, the hidden state carried along).

    Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014), *Learning
    phrase representations using RNN encoder-decoder for statistical machine translation*,
    EMNLP 2014; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "gru"
    darts_model = "RNNModel"
    darts_fixed = {"model": "GRU"}
    architecture = RNN_ARCHITECTURE
    training = {"n_epochs": (20, 200)}  # (default, full size)
    measured_cost = dict(lorenz_s=3.9, hyper_rossler_s=3.8, canonical_cpu_minutes=40)
