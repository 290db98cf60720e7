"""The architecture pictures: labelled from their arguments, the same every time, errors on bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cnncourse import diagrams_architectures as diagrams  # noqa: E402
from cnncourse.models.googlenet import INCEPTION  # noqa: E402


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def _drawn(fig):
    return [(type(p).__name__, tuple(round(v, 6) for v in p.get_extents().bounds)) for ax in fig.axes for p in ax.patches]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


STAGES = [("input", (3, 227, 227)), ("conv1", (96, 55, 55)), ("pool1", (96, 27, 27)), ("conv2", (256, 27, 27)),
          ("fc6", (4096,)), ("fc8", (1000,))]


def test_layer_stack_labels_every_stage_and_splits_grouped_layers():
    plain = diagrams.layer_stack(STAGES, title="AlexNet")
    split = diagrams.layer_stack(STAGES, split=("conv2",))
    text = "\n".join(_texts(plain))
    for expected in ("conv1\n96 ch\n55×55", "pool1\n96 ch\n27×27", "fc6\n4096", "fc8\n1000", "AlexNet"):
        assert expected in text
    assert len(plain.axes[0].patches) + 1 == len(split.axes[0].patches)  # conv2 drawn as two halves
    assert any("one per GPU" in t for t in _texts(split))


def test_layer_stack_needs_stages():
    with pytest.raises(ValueError, match="no stages"):
        diagrams.layer_stack([])


def test_stacked_kernels_weights_and_reach():
    text = "\n".join(_texts(diagrams.stacked_kernels(3, 2)))
    assert "2 stacked 3×3 convolutions see the same 5×5 window as one 5×5" in text
    assert "2·9·C² = 18·C² weights" in text and "1 layer: 25·C² weights" in text
    three = "\n".join(_texts(diagrams.stacked_kernels(3, 3)))
    assert "7×7" in three and "27·C²" in three and "49·C²" in three


@pytest.mark.parametrize("k, layers", [(1, 2), (3, 1)])
def test_stacked_kernels_rejects_trivial_stacks(k, layers):
    with pytest.raises(ValueError):
        diagrams.stacked_kernels(k, layers)


def test_inception_module_uses_the_table_row():
    text = "\n".join(_texts(diagrams.inception_module(*INCEPTION["3a"], size=28)))
    assert "192×28×28 in, 256×28×28 out" in text
    assert "64 + 128 + 32 + 32 = 256" in text
    for branch in ("1×1 conv\n96", "3×3 conv\n128", "1×1 conv\n16", "5×5 conv\n32", "3×3 max pool"):
        assert branch in text
    text_4e = "\n".join(_texts(diagrams.inception_module(*INCEPTION["4e"], size=14)))
    assert "528×14×14 in, 832×14×14 out" in text_4e


def test_residual_block_names_the_shortcut_and_the_output():
    text = "\n".join(_texts(diagrams.residual_block()))
    assert "ReLU(F(x) + x)" in text and "identity x" in text and "+" in text


def test_encoder_decoder_sizes_and_skips():
    unet = diagrams.encoder_decoder(in_channels=1, width=8, depth=2, num_classes=4, size=32, skips=True)
    plain = diagrams.encoder_decoder(in_channels=1, width=8, depth=2, num_classes=4, size=32, skips=False)
    text = "\n".join(_texts(unet))
    for expected in ("8×32×32", "16×16×16", "32×8×8", "4×32×32", "copy 8 ch, concatenate", "copy 16 ch, concatenate"):
        assert expected in text
    assert not any("copy" in t for t in _texts(plain))
    assert len(unet.axes[0].patches) == len(plain.axes[0].patches) + 2  # one skip arrow per level
    deeper = "\n".join(_texts(diagrams.encoder_decoder(width=4, depth=3, size=64)))
    assert "32×8×8" in deeper and "4×64×64" in deeper


def test_encoder_decoder_rejects_sizes_pooling_cannot_halve():
    with pytest.raises(ValueError, match="not divisible"):
        diagrams.encoder_decoder(depth=3, size=36)


@pytest.mark.parametrize("draw", [lambda: diagrams.layer_stack(STAGES, split=("conv2",)), diagrams.stacked_kernels,
                                  diagrams.inception_module, diagrams.residual_block, diagrams.encoder_decoder])
def test_same_arguments_same_picture(draw):
    first, second = draw(), draw()
    assert _texts(first) == _texts(second)
    assert _drawn(first) == _drawn(second)


def test_draws_into_a_given_axis():
    fig, axes = plt.subplots(1, 2)
    assert diagrams.encoder_decoder(ax=axes[1]) is fig
    assert axes[1].patches and not axes[0].patches
