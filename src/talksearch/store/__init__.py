"""The only code that touches the index directory: every file of it, read or written.

Layout of an index directory (default `indexes/`):

    CURRENT             name of the live generation, replaced atomically
    .lock               held (flock) by the one `index` run allowed at a time
    gen-<stamp>/        one complete index:
        manifest.json   model, weights hash, dimension, counts, version, created
        meta.duckdb     talks, speakers, events, sources, passages, notes, todos, ...
        passages.faiss  normalised passage vectors, row i = passages.row i
        documents.npy   one normalised mean vector per document, row = documents.pos
        hits.bin, hits.offsets.npy          each document's result fields as JSON, row = documents.pos
        passages.bin, passages.offsets.npy  each passage's text, row = passages.row
        passage_docs.npy                    each passage's documents.pos
        foreign.npy                         each document: known to be in a language other than English
        homes.npy                           each document's position as results show it (a transcript's: its talk's)
        passage_spans.npy                   each passage's start and end in seconds (NaN: not a transcript's)
        seeds.bin, seeds.offsets.npy        each document's title and the start of its text (for `related`)
        documents.json                      every document's id and kind, by documents.pos
        lexical/        bm25s index over talk and note documents
        lexical-windows/  bm25s index over the transcripts' passages (windows of cues)
        encoder/        only after `talksearch adapt`: the encoder's weights trained for this collection
    .tmp-<stamp>/       a generation being written (removed if a run dies)

A run writes a whole new generation into `.tmp-*`, renames it to `gen-*` and
then replaces CURRENT: readers see the old index or the new one, never a mix.
The previous generation is kept until the next run, so queries that opened it
just before the swap finish undisturbed.

- `generations`: the layout, the live generation, the lock, a new generation written and swapped in;
- `tables`: the DuckDB schema and the rows that fill it, and what a refresh reads back (`Previous`);
- `fields`: what a query reads by row without DuckDB (result fields, ids, seeds, BM25 arrays);
- `files`: stored records by row, hard-linked sharing, atomic writes.
"""

from .fields import (
    SEED_CHARS,
    read_lexical,
    save_lexical,
    write_documents,
    write_lexical,
    write_passage_owners,
    write_windows,
)
from .files import Records, RecordsWriter, share
from .generations import (
    CURRENT,
    DATABASE,
    DEFAULT_INDEX,
    DOCUMENT_IDS,
    DOCUMENT_VECTORS,
    ENCODER,
    ENV_INDEX,
    FACETS_FORMAT,
    FOREIGN,
    HITS,
    HOMES,
    INDEX_FORMAT,
    LEXICAL,
    LEXICAL_WINDOWS,
    MANIFEST,
    PASSAGE_DOCS,
    PASSAGE_SPANS,
    PASSAGE_TEXTS,
    REINDEX,
    SCRATCH,
    SEEDS,
    VECTORS,
    Generation,
    Writer,
    connect,
    current,
    is_index,
    live_name,
    locked,
    read_vectors,
    remove_stale,
    resolve_root,
)
from .tables import (
    Previous,
    copy_mentions,
    read_passages,
    read_previous,
    read_talk_texts,
    write_mentions,
    write_metadata,
    write_passages,
    write_transcripts,
)

__all__ = [
    "CURRENT", "DATABASE", "DEFAULT_INDEX", "DOCUMENT_IDS", "DOCUMENT_VECTORS", "ENCODER", "ENV_INDEX",
    "FACETS_FORMAT", "FOREIGN", "Generation", "HITS", "HOMES", "INDEX_FORMAT", "LEXICAL", "LEXICAL_WINDOWS",
    "MANIFEST", "PASSAGE_DOCS", "PASSAGE_SPANS", "PASSAGE_TEXTS", "Previous", "REINDEX", "Records", "RecordsWriter",
    "SCRATCH", "SEEDS", "SEED_CHARS", "VECTORS",
    "Writer", "connect", "copy_mentions", "current", "is_index", "live_name", "locked", "read_lexical", "read_passages",
    "read_previous", "read_talk_texts", "read_vectors", "remove_stale", "resolve_root", "save_lexical", "share",
    "write_documents", "write_lexical", "write_mentions", "write_metadata", "write_passage_owners", "write_passages",
    "write_transcripts", "write_windows",
]
