import sys


def down(n):
    if n == 0:
        raise KeyError("bottom")
    return down(n - 1) + 1


def outer():
    try:
        return down(40)
    except KeyError:
        return -1


def pairs():
    x = 0
    for i in range(3): x += i
    while x < 50: x *= 2
    return [(a, b) for a in range(3) for b in range(a)]


outer()
print(pairs())
with open(__file__) as f:
    lines = [l for l in f if l.strip()]
if len(sys.argv) > 1:
    sys.exit(int(sys.argv[1]))
