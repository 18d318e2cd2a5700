"""Conformance cases of the `mi_zoo.fusion` layers (see registry.py)."""

from mi_zoo.fusion import GlimpseAttention

# Low-rank bilinear pooling family (MLB, MLB attention, MRN/MARN).
from mi_zoo.fusion import LowRankBilinearPooling  # noqa: E402
from mi_zoo.fusion import MLBAttention  # noqa: E402
from mi_zoo.fusion import MultimodalResidual  # noqa: E402
from tests.conformance.registry import Case  # noqa: F401

MLB_CASES = (
    Case("mlb", lambda: LowRankBilinearPooling(4, units=3), ((5,), (6,))),
    Case(
        "mlb_after_shortcut_regions",
        lambda: LowRankBilinearPooling(
            4, activation_position="after", use_shortcut=True, dropout=0.2
        ),
        ((5,), (6, 3)),
    ),
    Case(
        # block.bootstrap's MLB options.
        "mlb_block_options_regions",
        lambda: LowRankBilinearPooling(
            4,
            units=3,
            activation="relu",
            normalize=True,
            output_activation="relu",
            dropout=0.1,
            dropout_pre_lin=0.1,
            dropout_output=0.1,
            seed=2,
        ),
        ((5,), (6, 3)),
    ),
    Case(
        "mlb_attention_masked",
        lambda: MLBAttention(4, glimpses=2),
        ((5,), (6, 3), (6,)),
        ("float32", "float32", "bool"),
    ),
    Case(
        "mlb_attention_grid_glimpse_units",
        lambda: MLBAttention(4, glimpses=2, glimpse_units=3, dropout=0.1),
        ((5,), (3, 3, 4)),
    ),
    Case("mrn", lambda: MultimodalResidual(4, num_layers=2), ((5,), (6,))),
    Case(
        "mrn_identity_regions",
        lambda: MultimodalResidual(
            5, num_layers=2, shortcut="identity", hidden_units=3
        ),
        ((5,), (4, 6)),
    ),
)

# Attention networks (BAN, DAN).
from mi_zoo.fusion import BilinearAttention  # noqa: E402
from mi_zoo.fusion import BilinearAttentionNetwork  # noqa: E402
from mi_zoo.fusion import Counter  # noqa: E402
from mi_zoo.fusion import DualAttention  # noqa: E402

_MASKED = ("float32", "float32", "bool", "bool")
ATTENTION_CASES = (
    Case("ban_maps", lambda: BilinearAttention(2, 4), ((4, 6), (5, 7))),
    Case(
        "ban_maps_masked_with_logits",
        lambda: BilinearAttention(2, 4, return_logits=True),
        ((4, 6), (5, 7), (4,), (5,)),
        _MASKED,
    ),
    Case(
        "ban_network", lambda: BilinearAttentionNetwork(2, 6), ((4, 6), (5, 7))
    ),
    Case(
        "ban_network_masked",
        lambda: BilinearAttentionNetwork(3, 6, attention_rank=4, pool_size=2),
        ((4, 6), (5, 7), (4,), (5,)),
        _MASKED,
    ),
    # The counting module of BAN's counter=True, and BAN with it (boxes
    # after the masks).
    Case("counter", lambda: Counter(4), ((6, 4), (6,))),
    Case(
        "counter_masked",
        lambda: Counter(3, pieces=5, from_logits=False),
        ((6, 4), (6,), (6,)),
        ("float32", "float32", "bool"),
    ),
    Case(
        "ban_network_counter_masked",
        lambda: BilinearAttentionNetwork(
            2, 6, counter=True, counter_objects=3
        ),
        ((4, 6), (5, 7), (4,), (5,), (5, 4)),
        _MASKED + ("float32",),
    ),
    Case(
        "ban_network_weight_norm",
        lambda: BilinearAttentionNetwork(2, 6, weight_norm=True),
        ((4, 6), (5, 7)),
    ),
    Case("dan_reasoning", lambda: DualAttention(4, 2), ((5, 7), (4, 6))),
    Case(
        "dan_matching_masked",
        lambda: DualAttention(4, 2, mode="matching"),
        ((5, 7), (4, 6), (5,), (4,)),
        _MASKED,
    ),
)

# Pooling fusions (MCB, MFB/MFH, MUTAN, BLOCK).
from mi_zoo.fusion import Block  # noqa: E402
from mi_zoo.fusion import CompactBilinearPooling  # noqa: E402
from mi_zoo.fusion import FactorizedBilinearPooling  # noqa: E402
from mi_zoo.fusion import Mutan  # noqa: E402

POOLING_CASES = (
    # MCB has no trainable weight of its own: the cases add the read-out.
    # n·m >> d, as in use, so that no bin of the sketch of x ⊗ y is empty: √
    # would turn the float32 FFT round-off of an empty bin (~1e-8) into
    # ~1e-4, and XLA's FFT rounds differently from the eager one.
    Case(
        "mcb_regions",
        lambda: CompactBilinearPooling(64, units=4, seed=1),
        ((16,), (4, 24)),
    ),
    Case(
        "mcb_raw_sequence_pair",
        lambda: CompactBilinearPooling(
            63,
            signed_sqrt=False,
            l2_normalize=False,
            units=3,
            activation="tanh",
        ),
        ((3, 5), (3, 6)),
    ),
    Case("mfb", lambda: FactorizedBilinearPooling(4, factor=3), ((5,), (6,))),
    Case(
        "mfh_regions",
        lambda: FactorizedBilinearPooling(4, factor=2, order=2, seed=0),
        ((5,), (4, 3)),
    ),
    Case(
        # block.bootstrap's MFH options.
        "mfh_block_options_regions",
        lambda: FactorizedBilinearPooling(
            4,
            factor=2,
            order=2,
            seed=1,
            input_activation="relu",
            dropout_input=0.1,
            output_units=3,
            output_activation="relu",
            dropout_output=0.1,
        ),
        ((5,), (4, 3)),
    ),
    Case(
        "mfb_block_options",
        lambda: FactorizedBilinearPooling(
            4, factor=3, input_activation="tanh", output_activation="tanh"
        ),
        ((5,), (6,)),
    ),
    Case(
        "mutan",
        lambda: Mutan(4, rank=2, mm_dim=6, x_hidden=5, y_hidden=4),
        ((5,), (6,)),
    ),
    Case(
        "mutan_regions_normalized",
        lambda: Mutan(
            4,
            rank=3,
            mm_dim=6,
            x_hidden=5,
            y_hidden=4,
            normalize=True,
            dropout=0.1,
        ),
        ((3, 5), (6,)),
    ),
    Case("block", lambda: Block(4, mm_dim=8, chunks=2, rank=3), ((5,), (6,))),
    Case(
        "block_regions_after_concat",
        lambda: Block(
            4,
            mm_dim=9,
            chunks=3,
            rank=2,
            normalization="after_concat",
            dropout=0.1,
        ),
        ((5,), (4, 3)),
    ),
    # torch.chunk's uneven split: chunks of 3, 3, 3 and 1.
    Case(
        "block_uneven_chunks",
        lambda: Block(4, mm_dim=10, chunks=4, rank=2),
        ((5,), (4, 3)),
    ),
)

# block.bootstrap's other fusions: LinearSum, ConcatMLP, Tucker, BlockTucker.
from mi_zoo.fusion import BlockTucker  # noqa: E402
from mi_zoo.fusion import ConcatMLP  # noqa: E402
from mi_zoo.fusion import LinearSum  # noqa: E402
from mi_zoo.fusion import Tucker  # noqa: E402

BLOCK_FAMILY_CASES = (
    Case("linear_sum", lambda: LinearSum(4, mm_dim=6), ((5,), (6,))),
    Case(
        "linear_sum_regions_normalized",
        lambda: LinearSum(
            4,
            mm_dim=6,
            input_activation="tanh",
            normalize=True,
            dropout=0.1,
            activation="relu",
        ),
        ((5,), (4, 3)),
    ),
    Case("concat_mlp", lambda: ConcatMLP(4, hidden_units=[6]), ((5,), (6,))),
    Case(
        "concat_mlp_regions",
        lambda: ConcatMLP(4, hidden_units=[6, 5], dropout=0.1),
        ((5,), (4, 3)),
    ),
    Case("tucker", lambda: Tucker(4, mm_dim=5), ((5,), (6,))),
    Case(
        "tucker_regions_normalized",
        lambda: Tucker(4, mm_dim=5, normalize=True, dropout=0.1),
        ((3, 5), (6,)),
    ),
    # torch.chunk's uneven split: chunks of 3, 3, 3 and 1.
    Case(
        "block_tucker_uneven_chunks",
        lambda: BlockTucker(4, mm_dim=10, chunks=4),
        ((5,), (4, 3)),
    ),
    Case(
        "block_tucker_after_concat",
        lambda: BlockTucker(
            4, mm_dim=6, chunks=2, normalization="after_concat", dropout=0.1
        ),
        ((4, 5), (4, 3)),
    ),
)

# Glimpse read-out of the fusion-attention models (no weights).
READOUT_CASES = (
    Case("glimpse_attention", lambda: GlimpseAttention(), ((6, 2), (6, 5))),
    Case(
        "glimpse_attention_grid_masked",
        lambda: GlimpseAttention(),
        ((3, 3, 2), (3, 3, 5), (3, 3)),
        ("float32", "float32", "bool"),
    ),
)

# Relational reasoning (RN).
from mi_zoo.fusion import RelationNetwork  # noqa: E402

RELATIONAL_CASES = (
    Case(
        "relation_network",
        lambda: RelationNetwork([4, 3], f_units=[2]),
        ((3, 4), (2,)),
    ),
    # Small weights: SGD(0.1) on γ(q) ∘ (sum of N² pairs) diverges from
    # Glorot's (the initializer reaches the FiLM sublayer too).
    Case(
        "relation_network_film_masked",
        lambda: RelationNetwork(
            [4],
            f_units=[3],
            question_fusion="film",
            kernel_initializer="random_normal",
        ),
        ((3, 4), (2,), (3,)),
        ("float32", "float32", "bool"),
    ),
    Case(
        "relation_network_mi",
        lambda: RelationNetwork([4, 3], question_fusion="mi"),
        ((3, 4), (2,)),
    ),
    Case(
        "relation_network_mi_low_rank_masked",
        lambda: RelationNetwork(
            [4], f_units=[3], question_fusion="mi", mi_rank=2
        ),
        ((3, 4), (2,), (3,)),
        ("float32", "float32", "bool"),
    ),
)

CASES = (
    MLB_CASES
    + ATTENTION_CASES
    + POOLING_CASES
    + BLOCK_FAMILY_CASES
    + READOUT_CASES
    + RELATIONAL_CASES
)
