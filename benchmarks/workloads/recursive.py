"""Recursive code: naive Fibonacci (deep call trees of tiny frames) and
building, walking and dropping complete binary trees (the "binary-trees"
pattern: recursion plus allocation), so stacks are deep and change fast.

    python recursive.py SIZE       # SIZE = rounds of fib(20) + trees of depth 12
"""
import sys
import time

DESCRIPTION = "naive fib and binary trees: deep, fast-changing stacks"
FULL_SIZE = 530
QUICK_SIZE = 160


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def make_tree(depth):
    if depth == 0:
        return (None, None)
    depth -= 1
    return (make_tree(depth), make_tree(depth))


def check_tree(node):
    left, right = node
    if left is None:
        return 1
    return 1 + check_tree(left) + check_tree(right)


def depth_first(n, limit):
    """A deep, narrow recursion: keeps ~limit frames on the stack."""
    if n >= limit:
        return n
    return depth_first(n + 1, limit) + 1


def work(size):
    checksum = 0
    for r in range(size):
        checksum += fib(20)
        checksum += check_tree(make_tree(12))
        checksum += depth_first(0, 200 + r % 50)
    return "recursive size=%d checksum=%d" % (size, checksum)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
