"""A program with known call counts for calls-mode tests."""
import threading


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def even(n):
    return True if n == 0 else odd(n - 1)


def odd(n):
    return False if n == 0 else even(n - 1)


def gen(n):
    for i in range(n):
        yield i


def consume():
    return sum(gen(4))


def boom(n):
    if n == 0:
        raise ValueError("deep")
    boom(n - 1)


def catch():
    try:
        boom(3)
    except ValueError:
        pass


def worker():
    for _ in range(5):
        fib(3)


def main():
    fib(10)
    even(6)
    consume()
    catch()
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    len([1, 2, 3])


main()
