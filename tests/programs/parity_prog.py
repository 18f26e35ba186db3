"""A deterministic program for the cProfile parity tests: the same calls on
every run (no imports, no threads, no clocks).  Covers what tells qualified
names from code names (methods, nested functions, lambdas, class bodies),
direct and mutual recursion, generators, exceptions and builtins."""


class Node:
    def __init__(self, value, children=()):
        self.value = value
        self.children = list(children)

    def __repr__(self):
        return "Node(%r)" % (self.value,)

    @property
    def size(self):
        return 1 + sum(child.size for child in self.children)

    @staticmethod
    def leaf(value):
        return Node(value)


class Visitor:
    def visit(self, node):
        out = [node.value]
        for child in node.children:
            out.extend(self.visit(child))
        return out


def build(depth):
    if depth == 0:
        return Node.leaf(depth)
    return Node(depth, [build(depth - 1), build(depth - 1)])


def even(n):
    return True if n == 0 else odd(n - 1)


def odd(n):
    return False if n == 0 else even(n - 1)


def squares(n):
    for i in range(n):
        yield i * i


def risky(n):
    if n % 3 == 0:
        raise ValueError(n)
    return n


def outer():
    def inner(x):
        return x + 1

    return [inner(i) for i in range(4)]


def main():
    tree = build(4)
    values = Visitor().visit(tree)
    assert len(values) == tree.size == 31
    assert even(12) and odd(7)
    total = sum(squares(10))
    caught = 0
    for n in range(7):
        try:
            risky(n)
        except ValueError:
            caught += 1
    names = sorted(map(repr, tree.children), key=lambda s: s[::-1])
    print(total, caught, len(names), outer(), ",".join(str(v) for v in values[:3]))


main()
