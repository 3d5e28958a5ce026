"""LSTM: darts' ``RNNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class LSTM(DartsTorchForecaster):
    r"""LSTM recurrent network trained by teacher forcing on sequences of ``training_length``
    samples to predict the next sample; the forecast feeds each prediction back (one
    step at a time, the hidden state carried along).

    Hochreiter & Schmidhuber (1997), *Long short-term memory*, Neural Computation 9, 1735; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "lstm"
    darts_model = "RNNModel"
    darts_fixed = {"model": "LSTM"}
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "hidden_dim": (32, 25, POSITIVE),
        "n_rnn_layers": (1, 2, POSITIVE),
        "training_length": (60, 60, POSITIVE),
        "dropout": (0.0, 0.0, DROPOUT),
    }
    training = {"n_epochs": (20, 200)}  # (default, full size)
    measured_cost = dict(lorenz_s=2.8, hyper_rossler_s=2.6, canonical_cpu_minutes=32)

    def _window(self):
        return int(self.training_length)  # RNNModel trains on sequences, not windows
