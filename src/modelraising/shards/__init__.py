"""``modelraising tokenize``: an ordered corpus in, a tokenizer and binary token shards out.

Layout of the output directory::

    tokenizer.json, tokenizer_config.json   byte-level BPE (``AutoTokenizer.from_pretrained(dir)`` loads it)
    train-00000.bin ...      the training stream in curriculum order, ``shard_tokens`` tokens each (the last
                             one shorter), raw little-endian uint16 or uint32 (``numpy.memmap``)
    val.bin                  the held-out documents (chosen by a hash of the document id)
    index.json               dtype, token counts, shard files, stage and document offsets
    rejects.jsonl            unreadable records and empty documents, each with a reason
    manifest.json            config, counts, input hashes, versions
    .state/                  run fingerprint; per finished shard, a sidecar with its documents, the
                             held-out documents met since the previous shard, and where to resume

Every document is followed by one ``<|endoftext|>``; documents run across shard boundaries (nanoGPT
style). A shard is written atomically and then its sidecar, so after a kill the run continues after
the last complete shard and writes the same bytes as an uninterrupted run. Encoding goes through
``Tokenizer.encode_batch_fast`` (multi-threaded in Rust) on batches of documents and numpy arrays;
Python only loops over documents, never over tokens.

One module per concern: ``config``, ``corpus`` (reading the ordered corpus, the held-out split),
``tokenizer``, ``encode`` (batches, parallel encoding), ``writer`` (shards and sidecars), ``step``
(:func:`tokenize_corpus`) and ``reader`` (``ShardIndex``, ``iter_documents``, ``decode``: what the
trainer and the tests use).
"""

from modelraising.shards.config import TokenizeConfig, TokenizeError
from modelraising.shards.corpus import corpus_files, id_fraction
from modelraising.shards.reader import ShardIndex, decode, iter_documents
from modelraising.shards.step import tokenize_corpus
from modelraising.shards.tokenizer import (
    load_tokenizer,
    prepare_tokenizer,
    save_tokenizer,
    special_tokens,
    token_dtype,
    train_tokenizer,
)

__all__ = [
    "ShardIndex",
    "TokenizeConfig",
    "TokenizeError",
    "corpus_files",
    "decode",
    "id_fraction",
    "iter_documents",
    "load_tokenizer",
    "prepare_tokenizer",
    "save_tokenizer",
    "special_tokens",
    "token_dtype",
    "tokenize_corpus",
    "train_tokenizer",
]
