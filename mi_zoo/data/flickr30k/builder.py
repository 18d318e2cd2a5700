r"""Flickr30k as a TFDS builder over the original files (manual directory).

Young et al., "From image descriptions to visual denotations: New similarity
metrics for semantic inference over event descriptions", TACL 2014
(https://shannon.cs.illinois.edu/DenotationGraph/); standard split of
Karpathy & Fei-Fei, "Deep Visual-Semantic Alignments for Generating Image
Descriptions", CVPR 2015. Files are read by `mi_zoo.data.flickr30k.reader`.

One record is one image with its captions (5 in Flickr30k):

    image            the original JPEG, uint8 [H, W, 3]
    image_filename   "1000092795.jpg"
    captions         Sequence of {"text": the raw caption, "tokens": ids of
                     `Vocabulary.from_texts` over the train captions
                     (unpadded; the vocabulary is stored in the build, see
                     `tfds_manual.word_vocabulary(builder, "captions/tokens")`)}

Configs:

  * "karpathy" (default): `dataset_flickr30k.json`; splits "train" (with
    "restval"), "validation" and "test" (29,000 (+1,014) / 1,014 / 1,000
    images); the vocabulary comes from train.
  * "token_file": `results_20130124.token` only, which has no split: one
    split "full" of all images (TFDS reserves the name "all"); the
    vocabulary comes from every caption.

Prepare:

    python -c "import tensorflow_datasets as tfds; \
from mi_zoo.data.flickr30k import builder as b; \
b.Flickr30k(data_dir='/data/tfds').download_and_prepare(download_config=\
tfds.download.DownloadConfig(manual_dir='/data/flickr30k'))"

    ds = tfds.load("flickr30k", split="test", data_dir="/data/tfds")
    # image-text pairs as `flickr30k.flickr30k_dataset` gives them: each
    # caption with images.resize_image(record["image"], (224, 224))
"""

import dataclasses
import os

import tensorflow_datasets as tfds

from mi_zoo.core import validation
from mi_zoo.data import tfds_manual
from mi_zoo.data.flickr30k import reader as flickr30k

_CITATION = """\
@article{young2014image,
  title={From image descriptions to visual denotations: New similarity
         metrics for semantic inference over event descriptions},
  author={Young, Peter and Lai, Alice and Hodosh, Micah and Hockenmaier,
          Julia},
  journal={Transactions of the Association for Computational Linguistics},
  volume={2},
  pages={67--78},
  year={2014}
}"""


@dataclasses.dataclass(eq=False)
class Flickr30kConfig(tfds.core.BuilderConfig):
    """Which caption file and splits to build.

    Attributes:
      source: "karpathy" or "token" (see `flickr30k.SOURCES`).
      splits: {TFDS split: reader split}.
      vocab_split: the reader split whose captions give the vocabulary.
      caption_min_count: caption words seen fewer times map to `<unk>`.
    """

    source: str = "karpathy"
    splits: dict = dataclasses.field(
        default_factory=lambda: {
            "train": "train",
            "validation": "val",
            "test": "test",
        }
    )
    vocab_split: str = "train"
    caption_min_count: int = 1

    def __post_init__(self):
        validation.check_choice("source", self.source, ("karpathy", "token"))
        validation.check_positive_int(
            "caption_min_count", self.caption_min_count
        )


class Flickr30k(tfds_manual.ManualDirBuilder):
    """Flickr30k images and captions; see the module docstring."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        Flickr30kConfig(
            name="karpathy",
            description=("Karpathy & Fei-Fei 2015 train/val/test split."),
        ),
        Flickr30kConfig(
            name="token_file",
            source="token",
            splits={"full": "all"},
            vocab_split="all",
            description="All images from the official token "
            "file, one split 'full'.",
        ),
    ]
    DEFAULT_CONFIG_NAME = "karpathy"
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
Put the Flickr30k files (https://shannon.cs.illinois.edu/DenotationGraph/)
in the manual directory:
  {flickr30k.IMAGES_DIR}/1000092795.jpg ...   (the 31,783 images)
  {flickr30k.KARPATHY_FILE}   (config "karpathy", the Karpathy split), or
  {flickr30k.TOKEN_FILE}   (config "token_file")."""

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description="Flickr30k images with their captions.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(None, None, 3), encoding_format="jpeg"
                    ),
                    "image_filename": tfds.features.Text(),
                    "captions": tfds.features.Sequence(
                        {
                            "text": tfds.features.Text(),
                            "tokens": tfds_manual.word_tokens_feature(),
                        }
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://shannon.cs.illinois.edu/DenotationGraph/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        manual_dir = self._manual_dir(dl_manager)
        c = self.builder_config
        if c.source == "karpathy":
            path = os.path.join(manual_dir, flickr30k.KARPATHY_FILE)
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"Flickr30k config 'karpathy' needs the Karpathy split "
                    f"file {path!r}, which does not exist; build config "
                    f"'token_file' to use {flickr30k.TOKEN_FILE} instead."
                )
        vocab = flickr30k.build_vocab(
            manual_dir, c.vocab_split, c.source, min_count=c.caption_min_count
        )
        tfds_manual.set_word_vocabulary(
            self.info.features["captions"]["tokens"], vocab
        )
        return {
            split: self._generate_examples(
                flickr30k.split_examples(manual_dir, name, c.source), vocab
            )
            for split, name in c.splits.items()
        }

    def _generate_examples(self, pairs, vocab):
        for path, captions in pairs:
            name = os.path.basename(path)
            yield (
                name,
                {
                    "image": path,
                    "image_filename": name,
                    "captions": [
                        {"text": text, "tokens": vocab.encode(text).tolist()}
                        for text in captions
                    ],
                },
            )
