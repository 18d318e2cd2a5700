"""`Registry`: entries by name, each with its sizes (if any)."""

from absl.testing import absltest

from mi_zoo.core import registry


def _zoo():
    """A registry with a sized entry ("scale") and an unsized one."""
    zoo = registry.Registry("toy model")

    @zoo.register(
        "scale", sizes={"small": {"factor": 3, "offset": 1}, "paper": {}}
    )
    def build_scale(spec, factor=10, offset=0):
        return ("scale", spec, factor, offset)

    @zoo.register("plain")
    def build_plain(spec, factor=2):
        return ("plain", spec, factor)

    return zoo


class RegistryTest(absltest.TestCase):
    def test_size_gives_its_arguments(self):
        zoo = _zoo()
        self.assertEqual(
            zoo.build("scale", "s", size="small"), ("scale", "s", 3, 1)
        )
        self.assertEqual(
            zoo.build("scale", "s", size="paper"), ("scale", "s", 10, 0)
        )

    def test_no_size_keeps_the_builder_defaults(self):
        self.assertEqual(_zoo().build("scale", "s"), ("scale", "s", 10, 0))

    def test_overrides_replace_the_size_arguments(self):
        zoo = _zoo()
        self.assertEqual(
            zoo.build("scale", "s", size="small", factor=5),
            ("scale", "s", 5, 1),
        )
        self.assertEqual(
            zoo.arguments("scale", "small", factor=5),
            {"factor": 5, "offset": 1},
        )
        self.assertEqual(zoo.arguments("scale", None, factor=5), {"factor": 5})

    def test_arguments_are_copies(self):
        zoo = _zoo()
        zoo.arguments("scale", "small")["factor"] = 99
        self.assertEqual(zoo.arguments("scale", "small")["factor"], 3)

    def test_sizes(self):
        zoo = _zoo()
        self.assertEqual(zoo.sizes("scale"), ("paper", "small"))
        self.assertEqual(zoo.sizes("plain"), ())

    def test_entries_without_sizes_keep_working(self):
        zoo = _zoo()
        self.assertEqual(zoo.build("plain", "s"), ("plain", "s", 2))
        self.assertEqual(zoo.build("plain", "s", factor=4), ("plain", "s", 4))

    def test_unknown_size_lists_the_known_ones(self):
        with self.assertRaisesRegex(
            ValueError,
            r"^Unknown size of toy model 'scale'; its sizes "
            r"are \('paper', 'small'\), got size='huge'\.$",
        ):
            _zoo().build("scale", "s", size="huge")

    def test_size_of_an_entry_without_sizes(self):
        with self.assertRaisesRegex(
            ValueError,
            r"^Unknown size of toy model 'plain'; its sizes "
            r"are \(\), got size='small'\.$",
        ):
            _zoo().arguments("plain", "small")

    def test_unknown_name(self):
        zoo = _zoo()
        for call in (
            lambda: zoo.build("nope", "s", size="small"),
            lambda: zoo.sizes("nope"),
        ):
            with self.assertRaisesRegex(
                ValueError,
                r"^Unknown toy model 'nope'; registered: "
                r"\('plain', 'scale'\)\.$",
            ):
                call()

    def test_size_with_an_argument_the_builder_lacks(self):
        zoo = registry.Registry("toy model")
        with self.assertRaisesRegex(
            ValueError,
            r"^Size 'small' of toy model 'x' sets arguments "
            r"the builder does not take: \['widht'\]; it takes "
            r"\['width'\]\.$",
        ):
            zoo.register("x", sizes={"small": {"widht": 3}})(
                lambda spec, width=8: None
            )
        self.assertNotIn("x", zoo)

    def test_registered_once(self):
        zoo = _zoo()
        with self.assertRaisesRegex(
            ValueError, r"^toy model 'plain' is already registered\.$"
        ):
            zoo.register("plain")(lambda spec: None)

    def test_parse_hyperparameters_reads_the_builder(self):
        self.assertEqual(
            _zoo().parse_hyperparameters("scale", "factor=4, offset=2"),
            {"factor": 4, "offset": 2},
        )


if __name__ == "__main__":
    absltest.main()
