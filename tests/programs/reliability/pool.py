"""ROUNDS rounds of a 4-worker multiprocessing Pool with the start method
given (fork by default): the pool's shutdown terminates its workers with
SIGTERM."""
import multiprocessing as mp
import sys


def square(x):
    return x * x


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    ctx = mp.get_context(method)
    total = 0
    for _ in range(rounds):
        with ctx.Pool(4) as p:
            total += sum(p.map(square, range(10)))
    print(method, rounds, total)
