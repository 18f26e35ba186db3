"""Native allocations from a library: sqlite's pages and cursors, malloc'd
by libsqlite3 under Python calls (the --native workload of overhead.py).

    python benchmarks/memory/sqlite_work.py [SIZE]    (SIZE thousand rows)"""
import sqlite3
import sys


def fill(con, rows):
    con.execute("create table t (a integer, b text)")
    con.executemany("insert into t values (?, ?)", ((i, "row %d " % i * 8) for i in range(rows)))
    con.execute("create index ta on t (b)")


def query(con, rounds):
    total = 0
    for k in range(rounds):
        total += sum(len(b) for (b,) in con.execute("select b from t where a % 7 = ?", (k % 7,)))
    return total


def main(size):
    con = sqlite3.connect(":memory:")
    fill(con, size * 1000)
    print(query(con, 10), file=sys.stderr)
    con.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
