"""The deep (darts torch) and pretrained (fracast, chronos) entries: the contract with tiny
networks, determinism, no files written, thread settings, and the zero-shot models."""

import os
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the deep entries need the torch extra")
pytest.importorskip("darts", reason="the deep entries need darts (torch extra)")
pytest.importorskip("pytorch_lightning", reason="darts' torch models need pytorch_lightning (torch extra)")

from dysts_bench import forecaster as F  # noqa: E402
from dysts_bench.forecaster import check_forecaster, resolve_spec  # noqa: E402
from dysts_bench.forecaster.checks import synthetic_context  # noqa: E402
from dysts_bench.forecaster.deep import TRAINING_PARAMS, torch_session, trainer_kwargs  # noqa: E402

# library noise of tiny runs (few batches, no data-loader workers, a lightning deprecation)
pytestmark = pytest.mark.filterwarnings("ignore:.*num_workers:", "ignore:.*treespec:", "ignore:.*across ranks is zero")

TRAIN = {"n_epochs": 1, "batch_size": 64, "patience": 1, "val_length": 20}
#: Tiny networks: the contract is about behaviour, not accuracy.
TINY = {
    "nbeats": {"input_chunk_length": 10, "output_chunk_length": 5, "num_stacks": 1, "num_layers": 1, "layer_widths": 8},
    "nhits": {"input_chunk_length": 10, "output_chunk_length": 5, "num_stacks": 1, "num_layers": 1, "layer_widths": 8},
    "tcn": {"input_chunk_length": 10, "output_chunk_length": 5, "num_filters": 2},
    "transformer": {"input_chunk_length": 10, "output_chunk_length": 5, "d_model": 8, "nhead": 2,
                    "dim_feedforward": 8},
    "lstm": {"input_chunk_length": 10, "hidden_dim": 4, "training_length": 12},
    "gru": {"input_chunk_length": 10, "hidden_dim": 4, "training_length": 12},
    "block_rnn": {"input_chunk_length": 10, "output_chunk_length": 5, "hidden_dim": 4},
    "tide": {"input_chunk_length": 10, "output_chunk_length": 5, "hidden_size": 8, "decoder_output_dim": 4,
             "temporal_decoder_hidden": 4},
    "tsmixer": {"input_chunk_length": 10, "output_chunk_length": 5, "hidden_size": 4, "ff_size": 4, "num_blocks": 1},
    "dlinear": {"input_chunk_length": 10, "output_chunk_length": 5, "kernel_size": 5},
    "nlinear": {"input_chunk_length": 10, "output_chunk_length": 5},
}


def entry(name):
    return F.forecaster_class(F.load_target(F.builtin_forecasters()[name]))


def tiny(name, **overrides):
    return {**TINY[name], **TRAIN, **overrides}


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def test_entries_are_builtins_with_declarations():
    table = F.builtin_forecasters()
    assert "deep" not in table  # the helper module is no entry
    for name in TINY:
        cls = entry(name)
        assert (cls.name, cls.family, cls.extra, cls.multivariate) == (name, "deep", "torch", True)
        assert re.search(r"\((19|20)\d\d\)", cls.__doc__), f"{name} cites no paper"
        assert set(TRAINING_PARAMS) <= set(cls._param_names())
        assert cls.full_size().get_params()["device"] == "cuda"
        F.constraints.check_params(name, cls.FULL_SIZE, cls._parameter_constraints)
        # the documented GPU command is the one that reproduces FULL_SIZE
        doc = " ".join(cls.__doc__.replace("\\\n", " ").split())
        assert cls.full_size_command() in doc, f"{name}: docstring command differs from full_size_command()"
        assert "COST_" not in cls.__doc__, f"{name}: measured cost not recorded"


@pytest.mark.parametrize("name", sorted(TINY))
def test_contract(name):
    check_forecaster(entry(name), params=tiny(name), n=200, horizon=12)


def test_seed_matters_and_reproduces():
    x = synthetic_context(200, 3)
    fits = [resolve_spec("nlinear", tiny("nlinear", seed=s)).build().fit(x, dt=0.05).predict(20) for s in (0, 0, 1)]
    assert np.array_equal(fits[0], fits[1])
    assert not np.array_equal(fits[0], fits[2])


def test_learns_a_sine_better_than_persistence():
    """A trained model must beat the last value on a pure tone (sanity of scaling and rollout)."""
    t = np.arange(600) * 2 * np.pi / 40
    x = np.stack([np.sin(t), np.cos(t)], axis=1)
    est = resolve_spec("nlinear", {"input_chunk_length": 40, "output_chunk_length": 10, "n_epochs": 30,
                                   "val_length": 60, "patience": 5}).build()
    pred = est.fit(x[:500], dt=0.1).predict(100)
    err = np.abs(pred - x[500:]).mean()
    assert err < 0.5 * np.abs(x[499] - x[500:]).mean(), err


def test_early_stopping_stops_and_only_with_a_validation_tail():
    x = synthetic_context(300, 2)
    # lr so high that the validation loss stops improving quickly
    stopped = resolve_spec("nlinear", tiny("nlinear", n_epochs=40, patience=1, val_length=60, lr=5.0)).build()
    assert stopped.fit(x, dt=0.05)._models[0].epochs_trained < 40
    full = resolve_spec("nlinear", tiny("nlinear", n_epochs=3, patience=1, val_length=0)).build()
    assert full.fit(x, dt=0.05)._models[0].epochs_trained == 3


def test_keep_best_restores_the_best_epoch_weights():
    from types import SimpleNamespace

    from dysts_bench.forecaster.deep import _keep_best_callback
    callback, net = _keep_best_callback(), torch.nn.Linear(2, 1)
    best = {k: v.clone() for k, v in net.state_dict().items()}
    for loss in (1.0, 2.0, 3.0):  # the first epoch is the best; later ones change the weights
        callback.on_validation_end(SimpleNamespace(callback_metrics={"val_loss": torch.tensor(loss)},
                                                   sanity_checking=False), net)
        with torch.no_grad():
            net.weight.add_(1.0)
    callback.on_fit_end(None, net)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in best.items())
    assert callback.state is None


def test_no_files_written_and_no_logger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolve_spec("dlinear", tiny("dlinear")).build().fit(synthetic_context(200, 2), dt=0.05).predict(10)
    assert list(tmp_path.iterdir()) == []
    kwargs = trainer_kwargs("cpu", 2)
    assert kwargs["logger"] is False and kwargs["enable_checkpointing"] is False
    assert kwargs["enable_progress_bar"] is False and len(kwargs["callbacks"]) == 2


def test_session_sets_threads_and_determinism_then_restores(monkeypatch):
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with torch_session(3, "cpu"):
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
        a = torch.rand(3)
    with torch_session(3, "cpu"):
        assert torch.equal(a, torch.rand(3))
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    est = resolve_spec("nlinear", tiny("nlinear", device="cuda")).build()
    with pytest.raises(ValueError, match="device"):
        est.fit(synthetic_context(200, 1), dt=0.05)


# --------------------------------------------------------------------------- fracast

def test_fracast_zero_shot():
    pytest.importorskip("fracast", reason="the fracast entry needs the fracast package (fracast extra)")
    cls = entry("fracast")
    assert (cls.family, cls.multivariate) == ("foundation", False)
    check_forecaster(cls, n=200, horizon=48)
    # a pure tone of period 40 is continued (ground truth known), per channel, in order
    t = np.arange(1100) * 2 * np.pi / 40
    x = np.stack([np.sin(t), 3 + 2 * np.cos(t)], axis=1)
    pred = cls().fit(x[:1000], dt=0.1).predict(100)
    assert pred.shape == (100, 2) and np.isfinite(pred).all()
    assert np.abs(pred - x[1000:]).mean(axis=0).max() < 0.3 * np.abs(x[999] - x[1000:]).mean()


# --------------------------------------------------------------------------- chronos

def _tiny_t5_config(T5Config):
    """The original Chronos: a T5 language model over 64 value tokens, sampled."""
    tokens = {"tokenizer_class": "MeanScaleUniformBins", "tokenizer_kwargs": {"low_limit": -15.0, "high_limit": 15.0},
              "n_tokens": 64, "n_special_tokens": 2, "pad_token_id": 0, "eos_token_id": 1, "use_eos_token": True,
              "model_type": "seq2seq", "num_samples": 5, "temperature": 1.0, "top_k": 50, "top_p": 1.0}
    return T5Config(d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=1, num_decoder_layers=1, vocab_size=64,
                    decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
                    architectures=["T5ForConditionalGeneration"], chronos_pipeline_class="ChronosPipeline",
                    chronos_config={"context_length": 64, "prediction_length": 16, **tokens})


def _tiny_bolt_config(T5Config):
    """Chronos-Bolt: patches in, quantiles out, deterministic."""
    return T5Config(d_model=16, d_ff=32, d_kv=8, num_heads=2, num_layers=1, num_decoder_layers=1, vocab_size=2,
                    dense_act_fn="relu", feed_forward_proj="relu", decoder_start_token_id=0, pad_token_id=0,
                    architectures=["ChronosBoltModelForForecasting"], chronos_pipeline_class="ChronosBoltPipeline",
                    chronos_config={"context_length": 64, "prediction_length": 16, "input_patch_size": 8,
                                    "input_patch_stride": 8, "quantiles": [0.1, 0.5, 0.9], "use_reg_token": True})


@pytest.fixture(scope="module", params=["bolt", "t5"])
def tiny_chronos(request, tmp_path_factory):
    """A randomly initialised, tiny Chronos checkpoint (real weights cannot be downloaded
    here): exercises loading, batching per channel, sampling and the rollout."""
    pytest.importorskip("chronos", reason="the chronos entry needs chronos-forecasting (chronos extra)")
    from chronos.chronos_bolt import ChronosBoltModelForForecasting
    from transformers import T5Config, T5ForConditionalGeneration
    model = {"bolt": (ChronosBoltModelForForecasting, _tiny_bolt_config),
             "t5": (T5ForConditionalGeneration, _tiny_t5_config)}[request.param]
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp(f"tiny_chronos_{request.param}")
    model[0](model[1](T5Config)).save_pretrained(path)
    return request.param, str(path)


def test_chronos_adapter_on_a_tiny_random_checkpoint(tiny_chronos):
    kind, path = tiny_chronos
    cls = entry("chronos")
    params = {"model_path": path, "num_samples": 3}
    check_forecaster(cls, params=params, n=200, horizon=40)  # 40 > native 16: rolled out
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    x = synthetic_context(200, 3)
    both = cls(**params).fit(x, dt=0.05).predict(40)
    alone = cls(**params).fit(x[:, 1:2], dt=0.05).predict(40)
    if kind == "bolt":  # deterministic: each channel forecast on its own, in order
        np.testing.assert_allclose(both[:, 1:2], alone, rtol=1e-5, atol=1e-5)
    else:  # sampled: the seed matters
        assert not np.array_equal(both, cls(**params, seed=1).fit(x, dt=0.05).predict(40))


def test_chronos_without_a_checkpoint_names_model_path(tmp_path):
    pytest.importorskip("chronos", reason="the chronos entry needs chronos-forecasting (chronos extra)")
    with pytest.raises(ValueError, match="model_path"):
        entry("chronos")(model_path=str(tmp_path)).fit(synthetic_context(100, 1), dt=0.05)
