"""Functions whose arguments --log-args shows: defaults, *args, keyword-only
and **kwargs, a generator, a repr that raises, a long repr, another thread."""
import threading


class Box:
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return "Box(%r)" % (self.v,)


class Bad:
    def __repr__(self):
        raise ValueError("no repr")


def scaled_sum(a, b=2, *rest, scale=1, **kw):
    return (a + b) * scale


def count_up(n):
    for i in range(n):
        yield i


def boxed(x):
    return Box(x)


def untouched(x):
    return x


def main():
    total = 0
    for i in range(3):
        total += scaled_sum(i, 5, 7, scale=2, k="v")
    total += sum(count_up(3))
    boxed(Bad())
    boxed("x" * 500)
    untouched(1)
    t = threading.Thread(target=scaled_sum, args=(10, 20))
    t.start()
    t.join()
    print(total)


main()
