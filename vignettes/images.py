"""Images as lazy tensors: a small CNN on ``tsk("digits_images")`` with augmentation.

Run it as a script (``python vignettes/images.py``); it trains on a CPU in a few seconds.

A lazy tensor column holds references to images (rows of a tensor here, image files below)
and the functions to apply when an image is loaded. Training reads it batch by batch through
a DataLoader, so a data set of image files never has to fit in memory, and an augmentation
added with ``map`` draws anew every time an image is loaded: every epoch sees other variants.
"""

# %%
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from mlrpy import as_lazy_tensor, as_task_classif, lrn, mlr_learners, msr, resample, rsmp, tsk

OUT = Path(os.environ.get("MLRPY_VIGNETTE_OUT") or tempfile.mkdtemp())

# %% [markdown]
# ## The task
#
# The 8x8 digits of scikit-learn as grey images ``(1, 8, 8)`` in [0, 1]: one ``lazy_tensor``
# feature ``image`` and the target ``class``.

# %%
task = tsk("digits_images")
print(task)
print(task.feature_types)
images = task.data(cols=["image"])["image"].array
print("element shape:", images.shape)

# %% [markdown]
# ## Augmentation with plain tensor functions
#
# Each function takes and returns one image. ``map`` returns a new lazy tensor; the column of
# the task is unchanged. Random draws come from torch's generator, which the learner seeds
# from ``random_state``, so a run is repeatable.


# %%
def random_shift(image: torch.Tensor) -> torch.Tensor:
    """Move the digit by up to one pixel in each direction."""
    dy, dx = torch.randint(-1, 2, (2,)).tolist()
    return torch.roll(image, shifts=(dy, dx), dims=(1, 2))


def random_noise(image: torch.Tensor) -> torch.Tensor:
    return (image + 0.05 * torch.randn_like(image)).clamp(0.0, 1.0)


augmented = images.map(random_shift).map(random_noise)
data = task.data()
train_task = as_task_classif(data.assign(image=augmented), target="class", id="digits_augmented")

# %% [markdown]
# ## A small CNN through the module learner
#
# ``n_features`` is filled from the data: for images, the number of channels.


# %%
class SmallCNN(nn.Module):
    def __init__(self, n_features: int, n_outputs: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(n_features, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(32 * 2 * 2, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


cnn = lrn("classif.module", module=SmallCNN, epochs=8, batch_size=64, random_state=1, **{"opt.lr": 0.005})

# resampling trains on augmented images and scores on the augmented test rows as well
result = resample(train_task, cnn, rsmp("holdout", ratio=0.8))
print("holdout accuracy (augmented):", result.aggregate(msr("classif.acc")))

cnn.train(train_task)
accuracy = cnn.predict(task).score(msr("classif.acc"))["classif.acc"]
print(f"accuracy on the original images: {accuracy:.3f}")
assert accuracy > 0.9

# %% [markdown]
# ## Image files
#
# ``as_lazy_tensor`` takes a list of paths too; Pillow decodes a file when it is loaded (mode
# "L" gives one channel, "RGB" three, "RGBA" four). Here 20 digits are written as PNG files
# and classified straight from the files.

# %%
from PIL import Image  # Pillow: the extra mlrpy[images]

paths = []
for i in range(20):
    pixels = (images[i][0].numpy() * 255).round().astype(np.uint8)
    path = OUT / f"digit_{i}.png"
    Image.fromarray(pixels).save(path)  # a 2-D uint8 array is a grey ("L") image
    paths.append(path)
files = as_lazy_tensor(paths)
print(files, files[0].shape)
print("predicted:", cnn.predict(files).tolist())
print("truth:    ", task.truth()[:20].tolist())

# %% [markdown]
# ## A torchvision network
#
# With torchvision installed, ``classif.resnet18`` trains a ResNet-18 on the same column.

# %%
try:
    import torchvision
except ImportError:  # torchvision is optional (the extra mlrpy[vision])
    torchvision = None
if torchvision is not None and "classif.resnet18" in mlr_learners:
    print("torchvision", torchvision.__version__)
    resnet = lrn("classif.resnet18", epochs=1, batch_size=64, random_state=1)
    # ResNet-18 expects three channels: the grey channel is repeated, lazily
    rgb = augmented[:256].map(lambda image: image.expand(3, -1, -1))
    small = as_task_classif(pd.DataFrame({"image": rgb, "class": task.truth()[:256]}), target="class")
    resnet.train(small)
    print("resnet18 trained on", small.nrow, "images")
else:
    print("torchvision is not installed: skipping classif.resnet18")
