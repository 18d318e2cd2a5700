"""`python -m mi_zoo.data.clevr_2d --num_examples=50000 --num_workers=2`: the
examples per second of the generator."""

from mi_zoo.data.clevr_2d import generator

if __name__ == "__main__":
    generator.main()
