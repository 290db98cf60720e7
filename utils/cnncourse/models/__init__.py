"""Reference networks of the course, built from scratch in plain PyTorch.

Each family lives in its own module; the common constructors are re-exported here.
"""

from cnncourse.models.vgg import vgg, vgg11, vgg16, vgg19  # noqa: F401
from cnncourse.models.lenet import lenet5, lenet5_paper  # noqa: F401
from cnncourse.models.alexnet import alexnet, alexnet_paper  # noqa: F401
from cnncourse.models.googlenet import googlenet  # noqa: F401
from cnncourse.models.resnet import (  # noqa: F401
    resnet, resnet18, resnet34, resnet50, resnet152, small_net)
from cnncourse.models.alphago import alphago_policy  # noqa: F401
from cnncourse.models.mnist1d import book_cnn, book_fc, fast_cnn, gru, logistic, repo_cnn  # noqa: F401
from cnncourse.models.segmentation import EncoderDecoder, unet  # noqa: F401
from cnncourse.models.detection import TinyYOLO  # noqa: F401
from cnncourse.models.transfer import SmallCNN  # noqa: F401
