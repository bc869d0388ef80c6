"""Search counts are written in batches on a thread of their own, not on the query that filled the batch."""
from __future__ import annotations

import threading

from guides import search_log
from guides.search_index import SearchPopularRecord


def test_a_full_batch_of_counts_is_written_off_the_request_thread(search_db, monkeypatch):
    monkeypatch.setattr(search_log, "FLUSH_EVERY", 3)
    writers = []
    real_flush = search_log.flush

    def flush(db=None):
        writers.append(threading.current_thread().name)
        real_flush(db)

    monkeypatch.setattr(search_log, "flush", flush)
    for _ in range(3):
        search_log.note(search_db, "护照", None, found=True, poor=False)
    pending = search_log._pending(search_db)
    pending.writer.join(10)
    assert writers == ["search-log-flush"]
    assert [(r.region, r.query, r.count) for r in SearchPopularRecord.select()] == [("", "护照", 3)]
