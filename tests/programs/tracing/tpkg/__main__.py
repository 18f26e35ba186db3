import sys

from tpkg import helpers


def main(argv):
    total = 0
    for word in argv:
        total += helpers.score(word)
    squares = {n: n * n for n in range(total % 7 + 3)}
    try:
        helpers.strict(-1)
    except ValueError as exc:
        print("refused", exc)
    return total, sorted(squares)


print(main(sys.argv[1:]))
