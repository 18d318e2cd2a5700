"""Image features from pretrained Keras backbones (issue 18, section 1).

`mi_zoo.models.backbones` (re-exported here; on the models' floor since
a VQA model may hold one): the registry of backbones (`BACKBONES`:
ResNet50/101/152, EfficientNetV2, MobileNetV3, ConvNeXt from
keras.applications, each with its preprocessing and default layer) and
`grid_model`, pixels -> the grid features of Jiang et al. (CVPR 2020) at
a chosen layer, input size and pooled grid. `writer`: image files -> a
features directory in the layout that `mi_zoo.data.vqa_v2` reads,
resumable. `python -m mi_zoo.features.extract` is its command line
(docs/features.md).

    from mi_zoo import features
    model = features.grid_model("resnet152", image_size=(448, 448))
    summary = features.extract_features(
        features.list_images("/data/coco/val2014"), "/data/grid", model,
        settings={"backbone": "resnet152"})
"""

from mi_zoo.features.writer import Summary
from mi_zoo.features.writer import extract_features
from mi_zoo.features.writer import image_id_of
from mi_zoo.features.writer import list_images
from mi_zoo.models.backbones import BACKBONES
from mi_zoo.models.backbones import Backbone
from mi_zoo.models.backbones import grid_boxes
from mi_zoo.models.backbones import grid_model

__all__ = [
    "BACKBONES",
    "Backbone",
    "Summary",
    "extract_features",
    "grid_boxes",
    "grid_model",
    "image_id_of",
    "list_images",
]
