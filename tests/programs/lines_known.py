"""Known line hit counts for lines-mode tests (see tests/test_lines.py)."""
import json
import threading


def loop(n):
    total = 0  # MARK: loop-init
    for i in range(n):  # MARK: loop-for
        total += i  # MARK: loop-body
        if i % 2 == 0:  # MARK: loop-if
            total += 1  # MARK: loop-even
    return total  # MARK: loop-return


def fact(n):
    if n <= 1:  # MARK: fact-test
        return 1  # MARK: fact-base
    return n * fact(n - 1)  # MARK: fact-rec


def worker(k):
    for _ in range(k):  # MARK: worker-for
        json.dumps([1, 2, 3])  # MARK: worker-body


def main():
    loop(10)
    loop(10)
    fact(6)
    threads = [threading.Thread(target=worker, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worker(5)


main()
