"""The old import paths of moved modules still work, for one release.

Each old module (see `ALIASES` in tests/repo/layering_test.py and
docs/layout.md) gives the very objects of its new home, so that code written
against the old path, pickles and isinstance checks keep working.
"""

import importlib
import os

from absl.testing import absltest
from absl.testing import parameterized

# (old module, new module, public names that the old module had).
MOVED = (
    (
        "mi_zoo.layers._validation",
        "mi_zoo.core.validation",
        (
            "Shape",
            "check_axis",
            "check_choice",
            "check_film_axis",
            "check_input_context_shapes",
            "check_positive_int",
            "film_channel_axis",
            "rows_per_context",
        ),
    ),
    ("mi_zoo.models.registry", "mi_zoo.core.registry", ("Registry",)),
    (
        "mi_zoo.features.backbones",
        "mi_zoo.models.backbones",
        (
            "BACKBONES",
            "NAMED_WEIGHTS",
            "Backbone",
            "check_weights",
            "grid_boxes",
            "grid_model",
        ),
    ),
    (
        "mi_zoo.models.specs",
        "mi_zoo.core.specs",
        (
            "ANSWER_CONVENTIONS",
            "IMAGE_KINDS",
            "MatchingSpec",
            "VqaSpec",
            "check_image",
        ),
    ),
    ("mi_zoo.layers._base", "mi_zoo.layers.base", ("WeightedLayer",)),
    (
        "mi_zoo.layers._ops",
        "mi_zoo.layers.ops",
        ("broadcast_context", "matmul_last"),
    ),
    (
        "mi_zoo.layers._forms",
        "mi_zoo.layers.mi_forms",
        ("FORMS", "check_arguments", "sizes", "variable_plan"),
    ),
    (
        "mi_zoo.layers._contraction",
        "mi_zoo.layers.mi_contraction",
        ("CONTRACTIONS", "choose_contraction"),
    ),
    (
        "mi_zoo.explain.figures",
        "mi_zoo.viz",
        (
            "BLACK",
            "BOX_FORMATS",
            "COLORMAPS",
            "MIN_SHORT_SIDE",
            "WHITE",
            "apply_colormap",
            "box_overlay",
            "caption_panel",
            "grid",
            "heatmap_overlay",
            "load_font",
            "normalize_heat",
            "pad_to_same_size",
            "save_png",
            "score_colors",
            "to_uint8",
            "token_scores_panel",
            "upsample_heat",
            "upscale_small",
        ),
    ),
    (
        "mi_zoo.data.sort_of_clevr_builder",
        "mi_zoo.data.sort_of_clevr.builder",
        (
            "SortOfClevr",
            "SortOfClevrConfig",
            "sort_of_clevr_dataset",
            "vqa_spec",
            "SPLITS",
            "SOURCES",
            "_config",
        ),
    ),
    (
        "mi_zoo.data.sort_of_clevr_contact_sheet",
        "mi_zoo.data.sort_of_clevr.contact_sheet",
        ("contact_sheet", "main", "parse_args"),
    ),
    # The package takes the old module's name and re-exports its generator.
    (
        "mi_zoo.data.sort_of_clevr",
        "mi_zoo.data.sort_of_clevr.generator",
        ("generate", "generate_arrays", "ANSWERS", "COLOURS", "question_text"),
    ),
    (
        "mi_zoo.data.clevr_2d",
        "mi_zoo.data.clevr_2d.generator",
        ("generate", "encode", "ANSWERS", "COLORS", "QUESTION_TYPES", "main"),
    ),
    (
        "mi_zoo.data.clevr_2d_programs",
        "mi_zoo.data.clevr_2d.programs",
        ("execute", "AnswerBalancer", "MAX_COUNT"),
    ),
    (
        "mi_zoo.data.clevr_2d_builder",
        "mi_zoo.data.clevr_2d.builder",
        (
            "Clevr2d",
            "Clevr2dConfig",
            "clevr_2d_dataset",
            "region_features",
            "IMAGE_KINDS",
            "MAX_REGIONS",
            "REGION_FEATURES",
        ),
    ),
    (
        "mi_zoo.data.clevr_2d_contact_sheet",
        "mi_zoo.data.clevr_2d.contact_sheet",
        ("contact_sheet", "main", "TILE", "TEXT_HEIGHT"),
    ),
    (
        "mi_zoo.data.text_corpora",
        "mi_zoo.data.text.corpora",
        (
            "Corpus",
            "CORPORA",
            "LEVELS",
            "SPLITS",
            "load_corpus",
            "tokenize",
            "split_by_fraction",
            "main",
        ),
    ),
    (
        "mi_zoo.data.lm_dataset",
        "mi_zoo.data.text.lm_dataset",
        ("lm_dataset", "num_batches"),
    ),
    (
        "mi_zoo.data.flickr30k",
        "mi_zoo.data.flickr30k.reader",
        (
            "flickr30k_dataset",
            "build_vocab",
            "main",
            "TOKEN_FILE",
            "KARPATHY_FILE",
        ),
    ),
    (
        "mi_zoo.data.flickr30k_builder",
        "mi_zoo.data.flickr30k.builder",
        ("Flickr30k",),
    ),
    (
        "mi_zoo.data.clevr",
        "mi_zoo.data.clevr.reader",
        (
            "clevr_dataset",
            "load_questions",
            "split_paths",
            "build_answer_vocab",
            "main",
            "QUESTION_TYPES",
        ),
    ),
    (
        "mi_zoo.data.clevr_v1_builder",
        "mi_zoo.data.clevr.builder",
        ("ClevrV1", "clevr_v1_dataset"),
    ),
    (
        "mi_zoo.data.vqa_v2",
        "mi_zoo.data.vqa_v2.reader",
        (
            "vqa_v2_dataset",
            "FeatureStore",
            "convert_tsv",
            "split_files",
            "load_questions",
            "load_annotations",
            "iter_examples",
            "dense_targets",
            "main",
            "ANSWER_TYPES",
        ),
    ),
    (
        "mi_zoo.data.vqa_v2_builder",
        "mi_zoo.data.vqa_v2.builder",
        (
            "VqaV2",
            "VqaV2Config",
            "vqa_v2_tfds_dataset",
            "answer_vocab",
            "SPLITS",
            "TARGETS",
        ),
    ),
)

# Old modules that were run with `python -m`: (old module, arguments, what
# it prints). Each still runs its new home's main ({text_file}: a small text
# file).
RUNNABLE = (
    (
        "mi_zoo.data.sort_of_clevr_contact_sheet",
        ["--help"],
        "--questions_per_image",
    ),
    ("mi_zoo.data.clevr_2d_contact_sheet", ["--help"], "--num_images"),
    ("mi_zoo.data.clevr_2d", ["--help"], "--num_workers"),
    ("mi_zoo.data.flickr30k", ["--help"], "--manual_dir"),
    ("mi_zoo.data.clevr", ["--help"], "--vocab_dir"),
    ("mi_zoo.data.vqa_v2", ["--help"], "--convert_tsv"),
    (
        "mi_zoo.data.text_corpora",
        [
            "--corpus=text",
            "--path={text_file}",
            "--level=char",
            "--batch_size=2",
            "--sequence_length=4",
        ],
        "batches of [2, 4]",
    ),
)

# Names moved out of a module that stays (it keeps its other code and
# re-exports them): (old module, new module, names).
SPLIT = (
    (
        "mi_zoo.models.language",
        "mi_zoo.layers.tied_embedding",
        ("TiedEmbedding", "TiedOutputInteraction"),
    ),
    (
        "mi_zoo.tasks.expressivity",
        "mi_zoo.models.expressivity",
        ("MODELS", "ModelKind", "get_model_kind", "parameter_count"),
    ),
    (
        "mi_zoo.tasks.multitask_regression",
        "mi_zoo.models.multitask_regression",
        (
            "CONDITIONINGS",
            "Conditioning",
            "WIDTH_RATIO",
            "choose_widths",
            "parameter_count",
        ),
    ),
    (
        "mi_zoo.data.vqa_sources",
        "mi_zoo.data.sources",
        (
            "Request",
            "checked_request",
            "check_seed",
            "choose_image_kind",
            "choose_split",
            "check_options",
            "require_data_dir",
            "reject_data_dir",
            "limited",
        ),
    ),
)


class CompatTest(parameterized.TestCase):
    @parameterized.parameters(*SPLIT)
    def test_split_module_re_exports_the_moved_names(self, old, new, names):
        old_module = importlib.import_module(old)
        new_module = importlib.import_module(new)
        for name in names:
            self.assertIs(
                getattr(old_module, name),
                getattr(new_module, name),
                f"{old}.{name}",
            )

    def test_tied_layers_are_public_layers(self):
        from mi_zoo import layers
        from mi_zoo.layers import tied_embedding

        self.assertIs(layers.TiedEmbedding, tied_embedding.TiedEmbedding)
        self.assertIs(
            layers.TiedOutputInteraction, tied_embedding.TiedOutputInteraction
        )

    @parameterized.parameters(*MOVED)
    def test_old_path_gives_the_same_objects(self, old, new, names):
        old_module = importlib.import_module(old)
        new_module = importlib.import_module(new)
        for name in names:
            self.assertIs(
                getattr(old_module, name),
                getattr(new_module, name),
                f"{old}.{name}",
            )
        public = {n for n in vars(new_module) if not n.startswith("_")}
        self.assertContainsSubset(public, set(vars(old_module)), old)
        self.assertIn(f"Moved to {new}", old_module.__doc__)

    @parameterized.parameters(*RUNNABLE)
    def test_old_path_still_runs_with_python_m(self, old, args, expected):
        import subprocess
        import sys
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            text_file = os.path.join(folder, "input.txt")
            with open(text_file, "w", encoding="utf-8") as f:
                f.write("To be, or not to be, that is the question.\n" * 20)
            args = [a.format(text_file=text_file) for a in args]
            result = subprocess.run(
                [sys.executable, "-m", old] + args,
                capture_output=True,
                text=True,
                check=False,
            )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn(expected, result.stdout, old)

    def test_from_imports_of_the_old_packages(self):
        from mi_zoo.core import registry as core_registry
        from mi_zoo.core import specs as core_specs
        from mi_zoo.core import validation
        from mi_zoo.layers import _validation
        from mi_zoo.models import Registry
        from mi_zoo.models import VqaSpec
        from mi_zoo.models import registry
        from mi_zoo.models import specs

        self.assertIs(
            _validation.check_positive_int, validation.check_positive_int
        )
        self.assertIs(registry.Registry, core_registry.Registry)
        self.assertIs(Registry, core_registry.Registry)
        self.assertIs(specs.VqaSpec, core_specs.VqaSpec)
        self.assertIs(VqaSpec, core_specs.VqaSpec)

    def test_registries_built_on_the_old_class_are_the_new_class(self):
        from mi_zoo.core import registry as core_registry
        from mi_zoo.models import VQA_MODELS
        from mi_zoo.models import registry

        self.assertIsInstance(VQA_MODELS, registry.Registry)
        self.assertIsInstance(VQA_MODELS, core_registry.Registry)

    def test_build_functions_are_the_registries_build(self):
        # build_vqa_model and build_matching_model were one-line wrappers;
        # they stay as names of the registries' `build` (builder defaults
        # unless size= is given), in mi_zoo.models and their modules.
        from mi_zoo import models
        from mi_zoo.models import matching
        from mi_zoo.models import vqa

        for build in (models.build_vqa_model, vqa.build_vqa_model):
            self.assertEqual(build, models.VQA_MODELS.build)
        for build in (
            models.build_matching_model,
            matching.build_matching_model,
        ):
            self.assertEqual(build, models.MATCHING_MODELS.build)
        spec = models.VqaSpec(20, 5, "grid", (4, 8), 3)
        model = models.build_vqa_model("concat", spec, hidden=8)
        self.assertEqual(model.get_layer("fusion").units, 8)

    def test_core_needs_no_keras(self):
        # The ground floor imports nothing heavy: run in a fresh interpreter.
        import subprocess
        import sys

        code = (
            "import sys, mi_zoo.core.validation, mi_zoo.core.registry, "
            "mi_zoo.core.specs; heavy = [m for m in ('keras', "
            "'tensorflow', 'mi_zoo.layers', 'mi_zoo.models') "
            "if m in sys.modules]; print(heavy); sys.exit(bool(heavy))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    absltest.main()
