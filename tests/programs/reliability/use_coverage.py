"""Measures its own coverage with the coverage package and prints the lines
of one function that ran."""
import coverage


def branchy(x):
    if x > 0:
        y = x * 2
    else:
        y = -x
    for _ in range(3):
        y += 1
    return y


cov = coverage.Coverage(data_file=None, include=[__file__])
cov.start()
branchy(5)
cov.stop()
data = cov.get_data()
first = branchy.__code__.co_firstlineno
ran = sorted(n - first for n in data.lines(__file__) if first <= n < first + 9)
print("ran", ran)
