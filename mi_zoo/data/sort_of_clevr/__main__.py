"""`python -m mi_zoo.data.sort_of_clevr --num_images=2500`: the examples per
second of the generator."""

from mi_zoo.data.sort_of_clevr import generator

if __name__ == "__main__":
    generator.main()
