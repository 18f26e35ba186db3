"""@pyrometer.lines under `pyrometer run --mode lines --target <nothing of it>`."""
import pyrometer


@pyrometer.lines
def decorated(n):
    s = 0  # MARK: dec-init
    for i in range(n):  # MARK: dec-for
        s += i  # MARK: dec-body
    return s


def plain(n):
    return sum(range(n))  # MARK: plain-body


print(decorated(7), plain(7))
