"""Runs cProfile inside the program and prints its call counts."""
import cProfile
import pstats


def work(n):
    return n if n < 2 else work(n - 1) + work(n - 2)


def main():
    return [work(k) for k in range(12)]


p = cProfile.Profile()
p.enable()
main()
p.disable()
st = pstats.Stats(p)
for (file, line, name), (cc, nc, tt, ct, callers) in sorted(st.stats.items()):
    if name in ("work", "main"):
        print(name, cc, nc)
# and once more through runcall, with the profiler set up again
p2 = cProfile.Profile()
p2.runcall(work, 10)
print(sorted((k[2], v[1]) for k, v in pstats.Stats(p2).stats.items() if k[2] == "work"))
