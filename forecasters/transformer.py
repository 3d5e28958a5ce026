"""Transformer: darts' ``TransformerModel`` as a benchmark entry (family "deep", ``torch`` extra)."""

from dysts_bench.forecaster.deep import DROPOUT, POSITIVE, DartsTorchForecaster


class Transformer(DartsTorchForecaster):
    r"""Encoder-decoder transformer (self-attention) over the input window; the decoder
    emits a block of ``output_chunk_length`` steps.

    Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser & Polosukhin (2017), *Attention
    is all you need*, NeurIPS 2017; through darts (Herzen et al. 2022, JMLR 23(124)).
    """

    name = "transformer"
    darts_model = "TransformerModel"
    architecture = {  # darts argument: (default, full size, accepted values)
        "input_chunk_length": (50, 50, POSITIVE),
        "output_chunk_length": (10, 1, POSITIVE),
        "d_model": (16, 64, POSITIVE),
        "nhead": (4, 4, POSITIVE),
        "num_encoder_layers": (1, 3, POSITIVE),
        "num_decoder_layers": (1, 3, POSITIVE),
        "dim_feedforward": (64, 512, POSITIVE),
        "dropout": (0.1, 0.1, DROPOUT),
    }
    training = {"n_epochs": (10, 100)}  # (default, full size)
    measured_cost = dict(lorenz_s=6.2, hyper_rossler_s=6.3, canonical_cpu_minutes=56, runner="7.4-8.2 s on Lorenz and HyperRossler")
