"""BlockRNN: darts' ``BlockRNNModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class BlockRNN(DartsTorchForecaster):
    r"""Block RNN: an LSTM reads the input window and a fully connected layer maps its last
    hidden state to a block of ``output_chunk_length`` steps.

    Hochreiter & Schmidhuber (1997), *Long short-term memory*, Neural Computation 9, 1735
    (an LSTM encoder read out by a fully connected layer, darts' BlockRNNModel); through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "block_rnn"
    darts_model = "BlockRNNModel"
    darts_fixed = {"model": "LSTM"}
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "hidden_dim": (32, 25, POSITIVE),
        "n_rnn_layers": (1, 1, POSITIVE),
        "dropout": (0.0, 0.0, DROPOUT),
    }
    measured_cost = dict(lorenz_s=1.5, hyper_rossler_s=1.8, canonical_cpu_minutes=25)
