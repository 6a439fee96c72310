#!/usr/bin/env bash
# Prints the path of the system's jemalloc (Debian's libjemalloc2), or nothing when it has none.
# `make unit` preloads it into the test processes (LD_PRELOAD): DuckDB's Python package allocates
# through the C library's malloc, which the suite's some 300,000 small statements call often (a
# quarter of a new database's 12 ms is malloc and free); jemalloc took about 8% off the suite's
# time and CPU in alternated runs (docs/benchmarks.md, session 43). What the tests run and assert is the same
# either way, and a machine without it runs them as before.
for lib in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    if [ -e "$lib" ]; then
        echo "$lib"
        exit 0
    fi
done
