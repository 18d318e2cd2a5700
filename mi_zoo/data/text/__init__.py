"""Language-modelling text: the data room of the text corpora.

- `corpora`: readers of tiny Shakespeare, WikiText-2/103, PTB and any text
  file into train/valid/test tokens (once `mi_zoo.data.text_corpora`;
  `python -m mi_zoo.data.text.corpora --corpus=... --path=...` prints their
  statistics and times the pipeline).
- `lm_dataset`: the batches for stateful truncated backpropagation through
  time (once `mi_zoo.data.lm_dataset`).

The vocabulary (`mi_zoo.data.vocabulary`) and the question and caption
tokenizer (`mi_zoo.data.text_vocab`) are shared with the VQA, CLEVR and
Flickr30k readers and stay at the top of `mi_zoo.data`.
"""
