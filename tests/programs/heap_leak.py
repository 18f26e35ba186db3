"""Leaks LEAKED instances of a class of its own (about 1 KB each: 125
slots) into a module-level list from one function, and allocates and frees
other objects before and after.  argv: [LEAKED] [plain] [raise|exit CODE|break-heap]
(plain: the leaked instances are of an ordinary class, Plain)."""
import sys

LEAKED = int(sys.argv[1]) if len(sys.argv) > 1 else 50000

leaked = []


class Record:
    __slots__ = tuple("f%d" % i for i in range(125))

    def __init__(self, n):
        for name in self.__slots__:
            setattr(self, name, n)


class Plain:
    """An ordinary class: instance dict (managed from 3.11) and weakref slot."""

    def __init__(self, n):
        self.n = n
        self.name = "plain"


KIND = Plain if "plain" in sys.argv[2:] else Record


def leaky(n):
    for i in range(n):
        leaked.append(KIND(i & 255))


def churn(n):
    total = 0
    for i in range(n):
        tmp = {"k": [i] * 20, "s": "x" * 100, "r": Record(1)}
        total += len(tmp["k"])
    return total


print(churn(20000))
leaky(LEAKED)
print(churn(20000))
print("leaked", len(leaked))
args = [a for a in sys.argv[2:] if a != "plain"]
how = args[0] if args else ""
if how == "raise":
    raise RuntimeError("the program's own error")
if how == "exit":
    sys.exit(int(args[1]))
if how == "break-heap":
    # pyrometer.heap cannot be imported any more: the report at exit fails.
    sys.modules["pyrometer.heap"] = None
